package timemu

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// Fixture is seed data: apps with their groups, members and messages. It is
// what Generate returns and what LoadFixture reads, so a demo data set can be
// saved, edited and replayed. The JSON form:
//
//	{"apps": [{
//	  "sdkAppId": 1400000000,
//	  "key": "dev-key",              // optional: Load adds the app if unknown
//	  "admins": ["administrator"],   // optional: added as App admins
//	  "groups": [{
//	    "id": "@TGS#2DEMO", "type": "Public", "name": "Demo",
//	    "owner": "alice",            // optional; becomes the first member
//	    "members": ["alice", "bob", "carol"],
//	    "messages": [
//	      {"seq": 1, "from": "alice", "receipt": true, "read": ["bob"]},
//	      {"seq": 2, "from": "bob", "receipt": true, "readBits": "05"},
//	      {"seq": 3, "receipt": false}
//	    ]}]}]}
//
// A message's audience is the members listed before "audience" (default:
// all of them) except the sender. Reads are given by name ("read") or as a
// bitset over member positions ("readBits": hex bytes, member i is bit i%8
// of byte i/8), or both; the generator uses readBits to stay compact.
type Fixture struct {
	Apps []FixtureApp `json:"apps"`
}

// FixtureApp is one app's data.
type FixtureApp struct {
	SDKAppID uint64         `json:"sdkAppId"`
	Key      string         `json:"key,omitempty"`
	Admins   []string       `json:"admins,omitempty"`
	Groups   []FixtureGroup `json:"groups"`
	// Nicks maps accounts to their nickname (Tag_Profile_IM_Nick).
	Nicks map[string]string `json:"nicks,omitempty"`
}

// FixtureGroup is one group with its members in join order.
type FixtureGroup struct {
	ID       string           `json:"id"`
	Type     string           `json:"type"`
	Name     string           `json:"name"`
	Owner    string           `json:"owner,omitempty"`
	Members  []string         `json:"members"`
	Messages []FixtureMessage `json:"messages,omitempty"`
}

// FixtureMessage is one message and who has read it.
type FixtureMessage struct {
	Seq      uint32   `json:"seq"`
	From     string   `json:"from,omitempty"`     // "" or not a member: sent by an admin
	Receipt  bool     `json:"receipt"`            // sent with NeedReadReceipt
	Audience int      `json:"audience,omitempty"` // members at send time; 0 = all
	Read     []string `json:"read,omitempty"`
	ReadBits Bits     `json:"readBits,omitempty"`
	// What the message history shows (all optional): the send time in
	// Unix seconds, the kind (text, image, file, sound, video, location,
	// face, custom; default text) with the text of a text message, or a
	// raw MsgBody; and whether it was recalled or deleted.
	Time     int64             `json:"time,omitempty"`
	Kind     string            `json:"kind,omitempty"`
	Text     string            `json:"text,omitempty"`
	Body     []json.RawMessage `json:"body,omitempty"`
	Recalled bool              `json:"recalled,omitempty"`
	Deleted  bool              `json:"deleted,omitempty"`
}

// Bits is a set of member positions, JSON-encoded as hex bytes with member i
// at bit i%8 of byte i/8. It keeps generated fixtures small and fast.
type Bits []byte

// Set adds member position i.
func (b *Bits) Set(i int) {
	for len(*b) <= i/8 {
		*b = append(*b, 0)
	}
	(*b)[i/8] |= 1 << (i % 8)
}

// Has reports whether member position i is in the set.
func (b Bits) Has(i int) bool { return i/8 < len(b) && b[i/8]&(1<<(i%8)) != 0 }

// Count returns the number of positions in the set.
func (b Bits) Count() int {
	n := 0
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return n
}

// MarshalJSON writes the hex form.
func (b Bits) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(b)) }

// UnmarshalJSON reads the hex form.
func (b *Bits) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("readBits: %v", err)
	}
	*b = v
	return nil
}

// LoadFixture reads a JSON fixture. Unknown fields are errors, so typos in
// hand-written fixtures do not silently drop data.
func LoadFixture(r io.Reader) (*Fixture, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f Fixture
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("fixture: %v", err)
	}
	return &f, nil
}

// Load adds the fixture's data, replacing groups with the same ID. An app
// that is not known yet is added when the fixture gives its key. It checks
// everything before changing anything and reports every problem.
func (e *Emulator) Load(f *Fixture) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var problems []error
	built := make([][]*group, len(f.Apps))
	for ai, fa := range f.Apps {
		if e.apps[fa.SDKAppID] == nil && fa.Key == "" {
			problems = append(problems, fmt.Errorf("app %d: unknown app and no key", fa.SDKAppID))
		}
		seen := map[string]bool{}
		for _, fg := range fa.Groups {
			g, err := buildGroup(fg)
			if err == nil && seen[fg.ID] {
				err = errors.New("duplicate group ID")
			}
			if err != nil {
				problems = append(problems, fmt.Errorf("app %d group %q: %v", fa.SDKAppID, fg.ID, err))
				continue
			}
			seen[fg.ID] = true
			built[ai] = append(built[ai], g)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("load fixture: %w", errors.Join(problems...))
	}
	for ai, fa := range f.Apps {
		a := e.apps[fa.SDKAppID]
		if a == nil {
			a = &app{id: fa.SDKAppID, admins: map[string]bool{}, groups: map[string]*group{}}
			e.apps[fa.SDKAppID] = a
		}
		if fa.Key != "" {
			a.key = fa.Key
		}
		for _, ad := range fa.Admins {
			a.admins[ad] = true
		}
		for _, g := range built[ai] {
			a.groups[g.id] = g
		}
		for acct, nick := range fa.Nicks {
			if a.nicks == nil {
				a.nicks = map[string]string{}
			}
			a.nicks[acct] = nick
		}
	}
	return nil
}

func buildGroup(fg FixtureGroup) (*group, error) {
	if !validGroupID(fg.ID) {
		return nil, fmt.Errorf("group ID %q: want 1 to %d bytes of printable ASCII without spaces", fg.ID, maxGroupIDLen)
	}
	typ := canonicalType(fg.Type)
	if typ == "" {
		return nil, fmt.Errorf("unknown type %q", fg.Type)
	}
	g := newGroup(fg.ID, typ, fg.Name, fg.Owner)
	if fg.Owner != "" {
		g.addMember(fg.Owner)
	}
	for _, m := range fg.Members {
		if m == "" {
			return nil, errors.New("empty member name")
		}
		g.addMember(m)
	}
	if len(g.members) > maxMembers[typ] {
		return nil, fmt.Errorf("%d members; a %s group holds at most %d", len(g.members), typ, maxMembers[typ])
	}
	var last uint64
	for _, fm := range fg.Messages {
		if g.msgs[fm.Seq] != nil {
			return nil, fmt.Errorf("duplicate seq %d", fm.Seq)
		}
		body, err := fixtureBody(fm)
		if err != nil {
			return nil, fmt.Errorf("seq %d: %v", fm.Seq, err)
		}
		msg := &message{sender: -1, needReceipt: fm.Receipt, eligible: len(g.members),
			time: fm.Time, from: fm.From, random: fm.Seq*2654435761 + 1, body: body, recalled: fm.Recalled, deleted: fm.Deleted}
		if fm.Audience > 0 {
			msg.eligible = min(fm.Audience, len(g.members))
		}
		if fm.From != "" {
			if i, ok := g.index[fm.From]; ok {
				msg.sender = i
			}
		}
		for _, name := range fm.Read {
			i, ok := g.index[name]
			if !ok {
				return nil, fmt.Errorf("seq %d: reader %q is not a member", fm.Seq, name)
			}
			if i < msg.eligible && i != msg.sender {
				msg.read.set(i)
			}
		}
		for i := range min(len(fm.ReadBits)*8, msg.eligible) {
			if fm.ReadBits.Has(i) && i != msg.sender {
				msg.read.set(i)
			}
		}
		g.msgs[fm.Seq] = msg
		last = max(last, uint64(fm.Seq))
	}
	g.nextSeq = last + 1
	return g, nil
}

// kindElem is the MsgType of each message kind a fixture names.
var kindElem = map[string]string{
	"text":     "TIMTextElem",
	"image":    "TIMImageElem",
	"file":     "TIMFileElem",
	"sound":    "TIMSoundElem",
	"video":    "TIMVideoFileElem",
	"location": "TIMLocationElem",
	"face":     "TIMFaceElem",
	"custom":   "TIMCustomElem",
}

// fixtureBody is a fixture message's MsgBody: the raw one, or one element
// of its kind with plausible content (the text for text messages).
func fixtureBody(fm FixtureMessage) ([]json.RawMessage, error) {
	if len(fm.Body) > 0 {
		return fm.Body, nil
	}
	kind := fm.Kind
	if kind == "" {
		kind = "text"
	}
	typ, ok := kindElem[kind]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", fm.Kind)
	}
	var content any
	switch kind {
	case "text":
		content = map[string]string{"Text": fm.Text}
	case "image":
		content = map[string]any{"UUID": fmt.Sprintf("img-%d", fm.Seq), "ImageFormat": 1, "ImageInfoArray": []any{}}
	case "file":
		content = map[string]any{"UUID": fmt.Sprintf("file-%d", fm.Seq), "FileName": fmt.Sprintf("report-%d.pdf", fm.Seq), "FileSize": 1024 * int(fm.Seq%900+100)}
	case "sound":
		content = map[string]any{"UUID": fmt.Sprintf("snd-%d", fm.Seq), "Second": int(fm.Seq%50 + 2)}
	case "video":
		content = map[string]any{"VideoUUID": fmt.Sprintf("vid-%d", fm.Seq), "VideoSecond": int(fm.Seq%90 + 5)}
	case "location":
		content = map[string]any{"Desc": "Office", "Latitude": 1.2834, "Longitude": 103.8607}
	case "face":
		content = map[string]any{"Index": int(fm.Seq % 30), "Data": ""}
	case "custom":
		content = map[string]string{"Data": fmt.Sprintf(`{"poll":%d}`, fm.Seq), "Desc": "poll", "Ext": ""}
	}
	b, err := json.Marshal(map[string]any{"MsgType": typ, "MsgContent": content})
	if err != nil {
		return nil, err
	}
	return []json.RawMessage{b}, nil
}
