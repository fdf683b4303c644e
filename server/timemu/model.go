package timemu

import (
	"encoding/json"
	"math/bits"
	"slices"
)

// Group types as Tencent spells them. Work and Meeting are the newer names of
// Private and ChatRoom and behave the same.
const (
	TypePrivate    = "Private"
	TypeWork       = "Work"
	TypePublic     = "Public"
	TypeChatRoom   = "ChatRoom"
	TypeMeeting    = "Meeting"
	TypeAVChatRoom = "AVChatRoom"
	TypeCommunity  = "Community"
)

// MaxReceiptMembers is the documented size limit of groups with read receipts.
const MaxReceiptMembers = 200

// maxMembers is the member cap per group type. Tencent's caps depend on the
// edition; these are the emulator's, kept small enough that per-message
// bitsets stay cheap.
var maxMembers = map[string]int{
	TypePrivate:    200,
	TypeWork:       200,
	TypePublic:     2000,
	TypeChatRoom:   6000,
	TypeMeeting:    6000,
	TypeAVChatRoom: 6000,
	TypeCommunity:  6000,
}

// receiptType reports whether read receipts work in groups of type t.
func receiptType(t string) bool {
	switch t {
	case TypePrivate, TypeWork, TypePublic, TypeChatRoom, TypeMeeting:
		return true
	}
	return false
}

// bitset is a set of member indexes; reads are stored this way so that a
// group of 200 members costs 32 bytes per message.
type bitset []uint64

func (b bitset) has(i int) bool {
	w := i / 64
	return w < len(b) && b[w]&(1<<(uint(i)%64)) != 0
}

func (b *bitset) set(i int) {
	w := i / 64
	for len(*b) <= w {
		*b = append(*b, 0)
	}
	(*b)[w] |= 1 << (uint(i) % 64)
}

// countBelow counts the members with an index below n.
func (b bitset) countBelow(n int) int {
	c := 0
	for w, v := range b {
		if w*64 >= n {
			break
		}
		if rest := n - w*64; rest < 64 {
			v &= 1<<uint(rest) - 1
		}
		c += bits.OnesCount64(v)
	}
	return c
}

// app is one SDKAppID with its key, admins and groups.
type app struct {
	id     uint64
	key    string
	admins map[string]bool
	groups map[string]*group
	nextID int // for generated group IDs
	// nicks are the accounts' Tag_Profile_IM_Nick; an account is "imported"
	// (known to portrait_get) when it is in a group or has a nickname.
	nicks map[string]string
}

// group keeps its members in join order; member indexes never change, which
// lets each message remember who could read it as "indexes below eligible".
type group struct {
	id, typ, name, owner string
	members              []string
	index                map[string]int
	msgs                 map[uint32]*message
	nextSeq              uint64
}

// message is one group message. Members with an index below eligible (the
// member count when it was sent), except the sender, are its audience.
type message struct {
	sender      int // member index, -1 when an admin or non-member sent it
	needReceipt bool
	eligible    int
	read        bitset
	// What group_msg_get_simple shows: the send time (Unix seconds), the
	// body's elements, and whether it was recalled or deleted.
	time     int64
	from     string // the sender's account, also for admins and non-members
	random   uint32
	body     []json.RawMessage
	recalled bool
	deleted  bool
}

func newGroup(id, typ, name, owner string) *group {
	return &group{id: id, typ: typ, name: name, owner: owner, index: map[string]int{}, msgs: map[uint32]*message{}, nextSeq: 1}
}

// addMember appends m and reports whether it was new.
func (g *group) addMember(m string) bool {
	if _, ok := g.index[m]; ok {
		return false
	}
	g.index[m] = len(g.members)
	g.members = append(g.members, m)
	return true
}

// counts returns the read and unread numbers of msg; countSender puts the
// sender in the audience, as a reader of its own message.
func (g *group) counts(msg *message, countSender bool) (read, unread int) {
	read = msg.read.countBelow(msg.eligible)
	total := msg.eligible
	if msg.sender >= 0 && msg.sender < msg.eligible {
		if msg.read.has(msg.sender) {
			read--
		}
		total--
		if countSender {
			read++
			total++
		}
	}
	return read, total - read
}

// isRead reports member i's state for msg, and whether i is in its audience.
func (g *group) isRead(msg *message, i int, countSender bool) (read, audience bool) {
	if i >= msg.eligible {
		return false, false
	}
	if i == msg.sender {
		return countSender, countSender
	}
	return msg.read.has(i), true
}

// seqs returns the group's message seqs in order.
func (g *group) seqs() []uint32 {
	s := make([]uint32, 0, len(g.msgs))
	for q := range g.msgs {
		s = append(s, q)
	}
	slices.Sort(s)
	return s
}
