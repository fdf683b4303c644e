// Package api is the JSON contract between the browser (the go-app WebAssembly
// console) and the backend-for-frontend.
//
// It imports only the standard library (and no net/http) because it is linked
// into the wasm: every byte here ships to every operator's browser. The BFF
// translates Tencent's vendor vocabulary into these types; nothing here names a
// vendor field.
package api

// Paths of the BFF's browser-facing endpoints. Both sides use these constants
// so a renamed route cannot silently break one half.
const (
	PathMe          = "/api/me"
	PathReceipts    = "/api/receipts"
	PathMembers     = "/api/receipts/members"
	PathReceiptsCSV = "/api/receipts.csv"
	PathGroups      = "/api/groups"
	PathLogin       = "/auth/login"
	PathLogout      = "/auth/logout"
)

// ContentTypeNDJSON is the media type a client puts in Accept on
// POST /api/receipts to receive a progress stream instead of one JSON answer.
const ContentTypeNDJSON = "application/x-ndjson"

// Me is the answer to GET /api/me: who is signed in and what they may query.
type Me struct {
	Operator Operator `json:"operator"`
	// Apps lists only the apps this operator is allowed to query.
	Apps []App `json:"apps"`
	// Demo is true when the console runs in demo mode (emulator and
	// development identity provider), so the UI can say so.
	Demo bool `json:"demo,omitempty"`
	// MaxSeqs is the smallest per-app cap, kept for older clients; prefer App.MaxSeqs.
	MaxSeqs int `json:"maxSeqs,omitempty"`
}

// Operator is the signed-in ops person, as the identity provider named them.
type Operator struct {
	Subject string   `json:"subject"`
	Email   string   `json:"email,omitempty"`
	Name    string   `json:"name,omitempty"`
	Groups  []string `json:"groups,omitempty"`
}

// App is one Tencent Cloud Chat application the console can query.
type App struct {
	// ID is the console's short name for the app, used in requests and URLs.
	ID       string `json:"id"`
	Name     string `json:"name"`
	SDKAppID uint64 `json:"sdkAppId"`
	// Region is a human-readable data-centre name ("Singapore", or "custom"
	// when the app is configured with a base URL).
	Region string `json:"region"`
	// MaxSeqs is the largest number of seqs one query may ask for.
	MaxSeqs int `json:"maxSeqs"`
}

// ReceiptsRequest is the body of POST /api/receipts.
type ReceiptsRequest struct {
	App     string `json:"app"`
	GroupID string `json:"groupId"`
	// Seqs is either a string in the seq grammar ("1-500, 777") or a JSON
	// array of numbers.
	Seqs SeqSpec `json:"seqs"`
}

// Receipt is the read state of one message.
type Receipt struct {
	Seq    uint32 `json:"seq"`
	Read   int    `json:"read"`
	Unread int    `json:"unread"`
	// Code is Tencent's per-message code: 0 for a message with a receipt,
	// 10062 when no receipt exists for that seq, CodeNotFetched when the
	// console could not get an answer for it (a partial result).
	Code int `json:"code"`
	// CodeText explains a non-zero Code in plain words.
	CodeText string `json:"codeText,omitempty"`
}

// CodeNotFetched is the Receipt.Code of a seq whose batch of Tencent calls
// still failed after its retries; CodeText says why. Asking again for those
// seqs may succeed.
const CodeNotFetched = -2

// Summary aggregates a query's receipts for the summary tiles.
type Summary struct {
	Messages    int `json:"messages"`
	WithReceipt int `json:"withReceipt"`
	Missing     int `json:"missing"`
	// NotFetched counts the seqs with CodeNotFetched, apart from Missing.
	NotFetched  int `json:"notFetched,omitempty"`
	TotalRead   int `json:"totalRead"`
	TotalUnread int `json:"totalUnread"`
	// ReadRate is TotalRead / (TotalRead + TotalUnread), 0 when both are 0.
	ReadRate float64 `json:"readRate"`
}

// Upstream describes the Tencent calls a query cost.
type Upstream struct {
	Calls     int   `json:"calls"`
	Retries   int   `json:"retries"`
	ElapsedMS int64 `json:"elapsedMs"`
}

// ReceiptsResponse is the answer to POST /api/receipts.
type ReceiptsResponse struct {
	App      string    `json:"app"`
	GroupID  string    `json:"groupId"`
	Results  []Receipt `json:"results"`
	Summary  Summary   `json:"summary"`
	Upstream Upstream  `json:"upstream"`
	// Partial is true when some seqs could not be fetched (Summary.NotFetched
	// of them); the rest of the result is complete and correct.
	Partial bool `json:"partial,omitempty"`
}

// NotFetchedSeqs lists the seqs of a partial result, in result order, for a
// retry of just those.
func (r *ReceiptsResponse) NotFetchedSeqs() []uint32 {
	var out []uint32
	for _, x := range r.Results {
		if x.Code == CodeNotFetched {
			out = append(out, x.Seq)
		}
	}
	return out
}

// Summarize computes the summary of a list of receipts. The BFF and the UI
// both call it so the tiles always agree with the table.
func Summarize(rs []Receipt) Summary {
	s := Summary{Messages: len(rs)}
	for _, r := range rs {
		if r.Code == CodeNotFetched {
			s.NotFetched++
			continue
		}
		if r.Code != 0 {
			s.Missing++
			continue
		}
		s.WithReceipt++
		s.TotalRead += r.Read
		s.TotalUnread += r.Unread
	}
	if t := s.TotalRead + s.TotalUnread; t > 0 {
		s.ReadRate = float64(s.TotalRead) / float64(t)
	}
	return s
}

// Event is one line of the NDJSON progress stream of POST /api/receipts.
// Progress events come first; the last line is a "result" or an "error".
type Event struct {
	Type string `json:"type"` // EventProgress, EventResult or EventError
	// Done and Total count units of upstream work (today: batches of up to
	// 50 seqs), not seqs. Only their ratio is meaningful; a client that
	// shows seqs scales Done/Total to its own seq count.
	Done   int               `json:"done,omitempty"`
	Total  int               `json:"total,omitempty"`
	Result *ReceiptsResponse `json:"result,omitempty"`
	Error  *Error            `json:"error,omitempty"`
}

// Event types.
const (
	EventProgress = "progress"
	EventResult   = "result"
	EventError    = "error"
)

// MembersRequest is the body of POST /api/receipts/members.
type MembersRequest struct {
	App     string `json:"app"`
	GroupID string `json:"groupId"`
	Seq     uint32 `json:"seq"`
	Filter  string `json:"filter"` // FilterRead or FilterUnread
	// Cursor is empty for the first page, then the previous answer's Cursor.
	Cursor string `json:"cursor"`
	// Limit is the page size, 1 to 200; 0 means the server's default.
	Limit int `json:"limit,omitempty"`
}

// Member filters.
const (
	FilterRead   = "read"
	FilterUnread = "unread"
)

// MembersResponse is one page of members.
type MembersResponse struct {
	Members []string `json:"members"`
	Cursor  string   `json:"cursor"`
	Done    bool     `json:"done"`
}

// MaxMembersLimit is the largest members page one request may ask for: the
// vendor's largest page (tim.MaxMemberPage, which the BFF's tests hold it
// equal to), stated here because the browser needs it too.
const MaxMembersLimit = 200

// GroupsResponse is the answer to GET /api/groups?app=&q=&type=&cursor=:
// one page of the app's group directory, groups with the newest last
// message first.
type GroupsResponse struct {
	App    string  `json:"app"`
	Groups []Group `json:"groups"`
	// Total counts every match; Cursor asks for the next page ("" = last).
	Total  int    `json:"total"`
	Cursor string `json:"cursor,omitempty"`
	// Ready is false while the first index build runs; Progress says how
	// far it is. BuiltAt is when the index was last complete (Unix seconds);
	// Stale is set when the last rebuild failed and the index is older.
	Ready    bool           `json:"ready"`
	Progress *IndexProgress `json:"progress,omitempty"`
	BuiltAt  int64          `json:"builtAt,omitempty"`
	Stale    bool           `json:"stale,omitempty"`
}

// Group is one group of the directory.
type Group struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	MemberNum   int    `json:"memberNum"`
	NextMsgSeq  uint64 `json:"nextMsgSeq"`
	LastMsgTime int64  `json:"lastMsgTime,omitempty"`
	// Receipts is false for group types without read receipts (AVChatRoom,
	// Community): listed, but no receipts can be pulled.
	Receipts bool `json:"receipts"`
}

// IndexProgress is the state of a directory build under way.
type IndexProgress struct {
	Listed   int `json:"listed"`
	Detailed int `json:"detailed"`
	Total    int `json:"total"`
}

// MessagesResponse is the answer to GET /api/groups/{group}/messages: one
// page of a group's timeline, newest first.
type MessagesResponse struct {
	App      string    `json:"app"`
	GroupID  string    `json:"groupId"`
	Messages []Message `json:"messages"`
	// Before asks for the next (older) page; 0 when the history, or the
	// time range asked for, has been read to its start.
	Before uint32 `json:"before,omitempty"`
	// Expired is set when older messages are past Tencent's retention.
	Expired bool `json:"expired,omitempty"`
	// Previews is false when the app's message_preview is off: messages
	// then carry kind, sender and time only.
	Previews bool `json:"previews"`
}

// Message is one message of a timeline.
type Message struct {
	Seq  uint32 `json:"seq"`
	Time int64  `json:"time"` // Unix seconds
	From string `json:"from"`
	// Nick is the sender's nickname, when Tencent has one.
	Nick string `json:"nick,omitempty"`
	// Kind is text, image, file, sound, video, location, face, custom, or
	// other.
	Kind string `json:"kind,omitempty"`
	// Preview is the start of a text message (about 120 characters), only
	// when the app's message_preview is text.
	Preview  string `json:"preview,omitempty"`
	Recalled bool   `json:"recalled,omitempty"`
	Deleted  bool   `json:"deleted,omitempty"`
	// The receipt counts, as in Receipt: Code 0 with Read and Unread, 10062
	// without a receipt, CodeNotFetched when they could not be fetched.
	Read     int    `json:"read"`
	Unread   int    `json:"unread"`
	Code     int    `json:"code"`
	CodeText string `json:"codeText,omitempty"`
}

// Timeline page sizes: the UI offers the last 50, 200 or 1000 messages.
const (
	DefaultTimelineLimit = 50
	MaxTimelineLimit     = 1000
)
