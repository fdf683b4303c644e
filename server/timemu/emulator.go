// Package timemu is an in-memory emulator of the Tencent Cloud Chat REST API
// for group read receipts, served over real HTTP. Development, CI and demo mode
// cannot reach Tencent, so every test and the demo talk to this emulator
// instead; a client that passes against it should work against Tencent
// unchanged. It is safe for concurrent use.
//
// # What it serves
//
// POST /v4/group_open_http_svc/{command} for the commands
// get_group_msg_receipt, get_group_msg_receipt_detail, group_msg_receipt,
// send_group_msg, create_group, add_group_member, destroy_group,
// get_group_info, and the browse commands get_appid_group_list and
// group_msg_get_simple; and POST /v4/profile/portrait_get. Every answer is
// HTTP 200 with the JSON envelope {"ActionStatus","ErrorCode","ErrorInfo"}
// first, except injected 502s.
//
// # The browse commands, and the choices where Tencent is unverified
//
// get_appid_group_list lists the app's groups sorted by ID, Limit a page
// (default and cap 10000; a larger Limit is clamped), with an opaque Next
// above 2^32 (0 = done) and TotalCount of the type-filtered app; Work and
// Private, Meeting and ChatRoom filter as one type; an unknown GroupType or
// a Next not handed out is 10004. Its rate is 1 call/s.
//
// group_msg_get_simple returns up to min(ReqMsgNumber, 20) messages with
// seq ≤ ReqMsgSeq (inclusive; default NextMsgSeq − 1), newest first, with
// From_Account, MsgSeq, MsgRandom, MsgTimeStamp and MsgBody. Deleted
// messages, seqs without a message and messages older than
// Config.Retention are placeholders (IsPlaceMsg 1, empty body); recalled
// messages are left out unless WithRecalledMsg is 1, then IsPlaceMsg 2
// (UNVERIFIED). IsFinished is 0 when more than 20 were asked for, 2 when the
// whole page had expired, else 1. A missing or non-positive ReqMsgNumber is
// 10004; an AVChatRoom, which keeps no history, is 10007 (UNVERIFIED).
//
// portrait_get takes 1 to 100 To_Account (none: 40002; more: 40001,
// UNVERIFIED) and a TagList of known tags (an unknown one fails the request
// with 40009; the level is UNVERIFIED). An account in none of the app's
// groups and without a profile is a per-account 40003 listed in
// Fail_Account; the others get their requested tags that have a value (the
// emulator keeps Tag_Profile_IM_Nick only, from the fixture's nicks).
//
// get_group_info also answers LastMsgTime, the newest message's time.
//
// # Checks, in order, and the codes chosen where Tencent's are unverified
//
//  1. Method other than POST: 60008 (HTTP request format error).
//  2. Path not /v4/group_open_http_svc/<known command>: 60009 (request
//     resource error); 10003 was the other candidate.
//  3. Query not parseable: 60002. No sdkappid: 60012. sdkappid not a number
//     or not a known app: 60006 (70020 was the other candidate).
//  4. Rate limit of the app's command, as Tencent documents them per API
//     and app (Config.RateLimit, default 200 calls/s;
//     get_appid_group_list 1 call/s; Config.CommandRates), a sliding
//     one-second window of admitted calls: 60007 (60011 was the other
//     candidate; the browse docs name no code). Rejected calls do not use up
//     the budget.
//  5. random missing or not an unsigned 32-bit number, or contenttype not
//     "json": 60002.
//  6. identifier missing: 60010.
//  7. UserSig: empty 70002; not base64 (after reversing * - _), not zlib, not
//     the JSON document, or a field of the wrong type: 70003 (decoded here
//     first, because the vendor verifier hides JSON failures); then the
//     vendor's tencentyun.VerifyUserSig: sdkappid mismatch 70014, identifier
//     mismatch 70013, expired 70001 (valid at exactly time+expire), userbuf
//     present 70005, signature mismatch 70009. Time comes from Config.Now.
//     Accepted UserSigs are cached (only their expiry is checked again), as
//     clients reuse one UserSig for many calls.
//  8. identifier not an App admin: 60010.
//  9. Body: empty, not JSON, not one JSON object, or over 1 MiB: 60003 (10011
//     was the other candidate). A field of the wrong type or range: 10004.
//     Field names are case-sensitive, as Tencent documents: "groupId" is not
//     GroupId (encoding/json alone would accept it).
//  10. The command's own checks: GroupId failing the rule of
//     validGroupID (1-48 printable ASCII, no spaces; the emulator's own copy): 10015; unknown
//     group: 10010; missing or invalid parameter: 10004.
//
// # Read receipts
//
// Receipts work in groups of type Private (= Work), Public and ChatRoom
// (= Meeting) with at most 200 members. AVChatRoom and Community groups, and
// bigger groups, are refused by the three receipt commands with 10007
// (insufficient permission; 10059 and 10004 were the other candidates).
//
// The audience of a message is every member who had joined when it was sent,
// except its sender (Config.CountSender counts the sender too, as a reader).
// ReadNum + UnreadNum is the audience size. A seq that does not exist or was
// sent without NeedReadReceipt (or IsNeedReadReceipt) = 1 gets the per-item
// Code 10062 with ReadNum and UnreadNum omitted; in the detail command it is
// the top-level code. An empty MsgSeqList is 10004; so is a list longer than
// Config.MaxSeqList (default: no cap) or, for group_msg_receipt, longer than
// the documented 50.
//
// The detail command takes Filter (0 = read, 1 = unread) and Count, or their
// old names Flag and Num; both are required. Count above 200 is clamped to
// 200, or refused with 10004 when Config.RejectCountOver200 is set. The answer
// holds only the list the filter asks for (ReadList of {"Read_Account"} or
// UnreadList of {"Unread_Account"}), IsFinished (and IsFinish when
// Config.EmitIsFinish is set), MsgSeq and an opaque Cursor, empty on the last
// page. Pages walk members in join order, so no member is returned twice and
// every member whose state does not change meanwhile is returned exactly once. A cursor that was not
// issued for this seq and filter is 10004.
//
// group_msg_receipt refuses (10007) a From_Account that is not a member and
// answers 10062, changing nothing, when any seq has no receipt info.
// create_group answers 10021 for a group ID in use and 10014 when the member
// list exceeds the type's cap (200 for Private/Work, 2000 for Public, 6000
// for the others in this emulator).
//
// # Statistics and faults
//
// Calls counts every request to a known command, TotalCalls every request.
// PeakPerSecond is the largest number of requests of one app that arrived
// within any one-second window (by arrival time, by Config.Now), counting
// rejected and faulted calls: it shows what the server saw, not what it
// accepted. Inject queues faults that are consumed by the next matching
// calls before any check (but after SetLatency's delay); a fault can be
// narrowed to the calls that ask for one seq (one batch of a pull) and can
// be permanent. The kinds are an HTML 502, a hang, truncated JSON, and any
// ErrorCode; they are what tim's fault handling is tested against.
package timemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config tunes the behaviours that Tencent does not document, so that tests
// can check a client against every plausible variant.
type Config struct {
	// RateLimit is the calls per second allowed per app and command, as
	// Tencent counts them ("200 calls/s per API per app"), for every
	// command without a rate of its own in CommandRates. 0 means the
	// documented 200; below 0 disables every limit, CommandRates included.
	RateLimit int
	// CommandRates sets the limit of single commands, e.g.
	// get_appid_group_list's documented 1 call/s (the default for it; 0
	// for a command means RateLimit).
	CommandRates map[string]int
	// MaxSeqList caps MsgSeqList of get_group_msg_receipt; 0 means no cap.
	MaxSeqList int
	// RejectCountOver200 refuses a detail Count above 200 with 10004 instead
	// of clamping it.
	RejectCountOver200 bool
	// CountSender counts the sender in ReadNum+UnreadNum, as a reader.
	CountSender bool
	// EmitIsFinish adds IsFinish next to IsFinished in detail answers.
	EmitIsFinish bool
	// Retention is how long group_msg_get_simple keeps messages (Tencent:
	// 7 days on the free edition, 30 or 90 on others); older ones are
	// placeholders. 0 keeps every message.
	Retention time.Duration
	// Now is the clock for UserSig expiry and the rate window; nil: time.Now.
	Now func() time.Time
	// Logger gets one debug record per call; nil: discard. UserSigs and
	// keys are never logged.
	Logger *slog.Logger
}

// DefaultRateLimit is Tencent's documented limit for the receipt commands.
const DefaultRateLimit = 200

// defaultCommandRates are the documented limits that differ from
// DefaultRateLimit.
var defaultCommandRates = map[string]int{CmdGetGroupList: 1}

// maxBody bounds a request body; real requests are a few kilobytes.
const maxBody = 1 << 20

// Emulator is the emulated service. It is an http.Handler meant to be mounted
// at "/" of an httptest.Server or a loopback http.Server.
type Emulator struct {
	cfg  Config
	now  func() time.Time
	log  *slog.Logger
	done chan struct{}
	once sync.Once

	mu   sync.RWMutex // guards apps and everything below them
	apps map[uint64]*app

	smu     sync.Mutex // guards the fields below
	calls   map[string]int
	total   int
	faults  []Fault
	latency time.Duration
	// abandoned counts hung calls whose client gave up (FaultHang).
	abandoned int
	windows   map[uint64]*window
	admitted  map[admitKey]*window // per app and command, for the limits

	sigMu    sync.Mutex
	sigCache map[sigCacheKey]int64 // accepted UserSigs: last valid second
}

var _ http.Handler = (*Emulator)(nil)

// New returns an empty emulator; add apps with AddApp and data with Load or
// through the REST commands.
func New(cfg Config) *Emulator {
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	e := &Emulator{
		cfg:     cfg,
		now:     cfg.Now,
		log:     cfg.Logger,
		done:    make(chan struct{}),
		apps:    map[uint64]*app{},
		calls:   map[string]int{},
		windows: map[uint64]*window{},

		admitted: map[admitKey]*window{},
		sigCache: map[sigCacheKey]int64{},
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e
}

// Close releases requests held by FaultHang or SetLatency, so that an
// http.Server (or httptest.Server.Close, which waits for them) can shut down.
// Call it before closing the server. The emulator keeps answering afterwards,
// without hanging or delaying.
func (e *Emulator) Close() {
	e.once.Do(func() { close(e.done) })
}

// AddApp registers an app with its secret key and admin identifiers, or
// replaces the key and adds admins of a known app, keeping its groups.
func (e *Emulator) AddApp(sdkAppID uint64, key string, admins ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.apps[sdkAppID]
	if a == nil {
		a = &app{id: sdkAppID, admins: map[string]bool{}, groups: map[string]*group{}}
		e.apps[sdkAppID] = a
	}
	a.key = key
	for _, ad := range admins {
		a.admins[ad] = true
	}
}

// Receipt is the ground truth for tests: the members who read and who have
// not read a message, in join order, computed the same way as the REST
// answers. ok is false for an unknown app, group or seq, or a message sent
// without a receipt request.
func (e *Emulator) Receipt(sdkAppID uint64, groupID string, seq uint32) (read, unread []string, ok bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	a := e.apps[sdkAppID]
	if a == nil {
		return nil, nil, false
	}
	g := a.groups[groupID]
	if g == nil {
		return nil, nil, false
	}
	msg := g.msgs[seq]
	if msg == nil || !msg.needReceipt {
		return nil, nil, false
	}
	read, unread = []string{}, []string{}
	for i, m := range g.members {
		r, aud := g.isRead(msg, i, e.cfg.CountSender)
		switch {
		case !aud:
		case r:
			read = append(read, m)
		default:
			unread = append(unread, m)
		}
	}
	return read, unread, true
}

// envelope is the common head of every answer, in Tencent's field order.
type envelope struct {
	ActionStatus string `json:"ActionStatus"`
	ErrorCode    int    `json:"ErrorCode"`
	ErrorInfo    string `json:"ErrorInfo"`
}

func (v envelope) errorCode() int { return v.ErrorCode }

func okEnvelope() envelope { return envelope{ActionStatus: "OK"} }

func fail(code int) envelope {
	return envelope{ActionStatus: "FAIL", ErrorCode: code, ErrorInfo: errorText(code)}
}

// answer is any response: an envelope or a struct embedding one.
type answer interface{ errorCode() int }

const pathPrefix = "/v4/"

// services maps each command to its service, the path segment before it.
var services = map[string]string{CmdPortraitGet: "profile"}

// commandOf finds the command of a request path: a known command under
// its own service (group_open_http_svc unless services says otherwise).
func commandOf(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, pathPrefix)
	if !ok {
		return "", false
	}
	svc, c, ok := strings.Cut(rest, "/")
	if !ok {
		return "", false
	}
	if _, known := commands[c]; !known {
		return "", false
	}
	want := services[c]
	if want == "" {
		want = "group_open_http_svc"
	}
	return c, svc == want
}

// ServeHTTP runs the checks listed in the package comment and the command.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	command, known := commandOf(r.URL.Path)
	if !known {
		command = ""
	}
	q, qerr := url.ParseQuery(r.URL.RawQuery)
	appID, appKnown := uint64(0), false
	if qerr == nil {
		if id, err := strconv.ParseUint(q.Get("sdkappid"), 10, 64); err == nil {
			e.mu.RLock()
			appKnown = e.apps[id] != nil
			e.mu.RUnlock()
			appID = id
		}
	}
	e.arrive(command, known, appID, appKnown)

	if !e.delay(r.Context()) {
		return
	}
	if f, ok := e.takeFault(command, e.peekBody(r)); ok {
		e.log.Debug("timemu fault", "command", command, "kind", f.Kind, "sdkappid", appID)
		e.serveFault(w, r, f)
		return
	}

	var ans answer
	switch {
	case r.Method != http.MethodPost:
		ans = fail(CodeBadRequestFormat)
	case !known:
		ans = fail(CodeUnknownCommand)
	case qerr != nil:
		ans = fail(CodeHTTPParse)
	default:
		ans = e.serveCommand(r, command, q)
	}
	writeJSON(w, ans)
	e.log.Debug("timemu call", "command", command, "sdkappid", appID, "code", ans.errorCode(), "elapsed", time.Since(start))
}

// peekBody reads the request body (up to the limit and one byte more) for
// the faults that match on it, and puts it back for the checks that follow.
func (e *Emulator) peekBody(r *http.Request) []byte {
	e.smu.Lock()
	need := false
	for _, f := range e.faults {
		need = need || f.Seq != 0
	}
	e.smu.Unlock()
	if !need || r.Body == nil {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body
}

// serveCommand runs the query, UserSig and body checks and then the command.
func (e *Emulator) serveCommand(r *http.Request, command string, q url.Values) answer {
	if !q.Has("sdkappid") || q.Get("sdkappid") == "" {
		return fail(CodeSDKAppIDMissing)
	}
	appID, err := strconv.ParseUint(q.Get("sdkappid"), 10, 64)
	if err != nil {
		return fail(CodeSDKAppIDInvalid)
	}
	e.mu.RLock()
	a := e.apps[appID]
	var key string
	var admin bool
	identifier := q.Get("identifier")
	if a != nil {
		key, admin = a.key, a.admins[identifier]
	}
	e.mu.RUnlock()
	if a == nil {
		return fail(CodeSDKAppIDInvalid)
	}
	if !e.admit(appID, command) {
		return fail(CodeRateLimited)
	}
	if _, err := strconv.ParseUint(q.Get("random"), 10, 32); err != nil {
		return fail(CodeHTTPParse)
	}
	if q.Get("contenttype") != "json" {
		return fail(CodeHTTPParse)
	}
	if identifier == "" {
		return fail(CodeNeedAdmin)
	}
	if code := e.checkSig(appID, key, identifier, q.Get("usersig"), e.now()); code != CodeOK {
		return fail(code)
	}
	if !admin {
		return fail(CodeNeedAdmin)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		return fail(CodeJSONParse)
	}
	if code := checkBody(body); code != CodeOK {
		return fail(code)
	}
	return commands[command](e, appID, body)
}

// checkBody accepts exactly one JSON object, surrounded by whitespace only.
func checkBody(body []byte) int {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
		return CodeJSONParse
	}
	return CodeOK
}

// requestFields are the body field names the commands read. Tencent's names
// are case-sensitive but encoding/json matches them case-insensitively, so
// decode drops keys that differ from one of these only in case: "groupId" is
// then a missing GroupId, as it would be at Tencent.
var requestFields = []string{
	"GroupId", "MsgSeqList", "MsgSeq", "Filter", "Flag", "Cursor", "Count", "Num",
	"From_Account", "Random", "MsgBody", "NeedReadReceipt", "IsNeedReadReceipt",
	"Owner_Account", "Type", "Name", "MemberList", "Member_Account", "Silence", "GroupIdList",
}

// miscased reports whether k is one of requestFields spelled in another case.
func miscased(k string) bool {
	for _, f := range requestFields {
		if k != f && strings.EqualFold(k, f) {
			return true
		}
	}
	return false
}

// dropMiscased removes miscased keys from every object in v.
func dropMiscased(v any) bool {
	changed := false
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if miscased(k) {
				delete(v, k)
				changed = true
				continue
			}
			changed = dropMiscased(x) || changed
		}
	case []any:
		for _, x := range v {
			changed = dropMiscased(x) || changed
		}
	}
	return changed
}

// decode fills v from a body that checkBody accepted, with case-sensitive
// field names; a value of the wrong type or range is an invalid parameter.
func decode(body []byte, v any) int {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return CodeJSONParse
	}
	if dropMiscased(tree) {
		b, err := json.Marshal(tree)
		if err != nil {
			return CodeJSONParse
		}
		body = b
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return CodeInvalidParam
		}
		return CodeJSONParse
	}
	return CodeOK
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(fail(CodeInternal))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// delay waits for the configured latency; it reports false when the client
// gave up meanwhile (nothing more should be written).
func (e *Emulator) delay(ctx context.Context) bool {
	e.smu.Lock()
	d := e.latency
	e.smu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-e.done:
		return true
	case <-ctx.Done():
		return false
	}
}
