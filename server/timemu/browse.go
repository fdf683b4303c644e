package timemu

import (
	"encoding/json"
	"slices"
	"strings"
)

// The browse commands: the app's group directory, a group's message history
// and the accounts' profiles (tencent-browse-apis.md §1, §3, §4). Where the
// fact sheet marks a behaviour UNVERIFIED, the emulator's choice is written
// next to it here and in the package comment.

// Limits of the browse commands.
const (
	maxGroupListLimit = 10000 // get_appid_group_list Limit: documented cap and default
	maxHistoryPage    = 20    // group_msg_get_simple: "at most 20 are returned per request"
	maxPortraitUsers  = 100   // portrait_get To_Account
	// groupListCursorBase offsets get_appid_group_list's Next, so that every
	// cursor is above 2^32 and a client that parses it as 32 bits fails in
	// tests, as it would against Tencent (whose sample cursor is 4454685361).
	groupListCursorBase = 1 << 33
)

// sameType folds the newer type names onto the older ones for filtering:
// Work is Private, Meeting is ChatRoom.
func sameType(t string) string {
	switch t {
	case TypeWork:
		return TypePrivate
	case TypeMeeting:
		return TypeChatRoom
	}
	return t
}

type groupIDItem struct {
	GroupID string `json:"GroupId"`
}

type groupListAnswer struct {
	envelope
	TotalCount  int           `json:"TotalCount"`
	GroupIDList []groupIDItem `json:"GroupIdList"`
	Next        uint64        `json:"Next"`
}

// getGroupList is get_appid_group_list: the app's group IDs in a stable
// order (sorted by ID), Limit at a time (default and cap 10000; a larger
// Limit is clamped, the safe reading of the docs), an opaque 64-bit Next
// (0 = done), TotalCount of the (type-filtered) app whatever the page. An
// unknown GroupType or a Next this emulator never handed out is 10004.
func (e *Emulator) getGroupList(appID uint64, body []byte) answer {
	var req struct {
		Limit     *int64  `json:"Limit"`
		Next      *uint64 `json:"Next"`
		GroupType *string `json:"GroupType"`
	}
	if code := decode(body, &req); code != CodeOK {
		return fail(code)
	}
	limit := int64(maxGroupListLimit)
	if req.Limit != nil && *req.Limit != 0 {
		if *req.Limit < 0 {
			return fail(CodeInvalidParam)
		}
		limit = min(*req.Limit, maxGroupListLimit)
	}
	filter := ""
	if req.GroupType != nil && *req.GroupType != "" {
		if canonicalType(*req.GroupType) == "" {
			return fail(CodeInvalidParam)
		}
		filter = sameType(*req.GroupType)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	a := e.apps[appID]
	ids := make([]string, 0, len(a.groups))
	for id, g := range a.groups {
		if filter == "" || sameType(g.typ) == filter {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	start := 0
	if req.Next != nil && *req.Next != 0 {
		if *req.Next < groupListCursorBase || *req.Next-groupListCursorBase > uint64(len(ids)) {
			return fail(CodeInvalidParam)
		}
		start = int(*req.Next - groupListCursorBase)
	}
	end := min(start+int(limit), len(ids))
	ans := groupListAnswer{envelope: okEnvelope(), TotalCount: len(ids), GroupIDList: make([]groupIDItem, 0, end-start)}
	for _, id := range ids[start:end] {
		ans.GroupIDList = append(ans.GroupIDList, groupIDItem{id})
	}
	if end < len(ids) {
		ans.Next = groupListCursorBase + uint64(end)
	}
	return ans
}

type historyMsg struct {
	From       string            `json:"From_Account"`
	IsPlaceMsg int               `json:"IsPlaceMsg"`
	MsgBody    []json.RawMessage `json:"MsgBody"`
	Priority   int               `json:"MsgPriority"`
	Random     uint32            `json:"MsgRandom"`
	Seq        uint32            `json:"MsgSeq"`
	Time       int64             `json:"MsgTimeStamp"`
}

type historyAnswer struct {
	envelope
	GroupID    string       `json:"GroupId"`
	IsFinished int          `json:"IsFinished"`
	RspMsgList []historyMsg `json:"RspMsgList"`
}

// groupMsgGetSimple is group_msg_get_simple: up to min(ReqMsgNumber, 20)
// messages with seq ≤ ReqMsgSeq (default NextMsgSeq − 1), newest first.
// A deleted message, a seq without a message, and a message older than
// Config.Retention are placeholders (IsPlaceMsg 1, empty MsgBody); a
// recalled one is left out unless WithRecalledMsg is 1, then IsPlaceMsg 2
// with an empty body (UNVERIFIED: the docs say only that recalled messages
// are not returned by default). IsFinished is 0 when more than 20 were
// asked for, 2 when every message of the page had expired, else 1.
// AVChatRoom groups keep no history: 10007 (the code is UNVERIFIED).
func (e *Emulator) groupMsgGetSimple(appID uint64, body []byte) answer {
	var req struct {
		GroupID         string  `json:"GroupId"`
		ReqMsgNumber    *int64  `json:"ReqMsgNumber"`
		ReqMsgSeq       *uint64 `json:"ReqMsgSeq"`
		WithRecalledMsg *int64  `json:"WithRecalledMsg"`
	}
	if code := decode(body, &req); code != CodeOK {
		return fail(code)
	}
	if req.ReqMsgNumber == nil || *req.ReqMsgNumber < 1 {
		return fail(CodeInvalidParam)
	}
	withRecalled := req.WithRecalledMsg != nil && *req.WithRecalledMsg == 1
	e.mu.RLock()
	defer e.mu.RUnlock()
	_, g, code := e.findGroup(appID, req.GroupID)
	if code != CodeOK {
		return fail(code)
	}
	if g.typ == TypeAVChatRoom {
		return fail(CodePermission)
	}
	want := min(*req.ReqMsgNumber, maxHistoryPage)
	top := g.nextSeq - 1
	if req.ReqMsgSeq != nil {
		top = min(*req.ReqMsgSeq, top)
	}
	var expiredBefore int64
	if e.cfg.Retention > 0 {
		expiredBefore = e.now().Add(-e.cfg.Retention).Unix()
	}
	ans := historyAnswer{envelope: okEnvelope(), GroupID: req.GroupID, IsFinished: 1, RspMsgList: []historyMsg{}}
	expired := 0
	for seq := top; seq >= 1 && int64(len(ans.RspMsgList)) < want; seq-- {
		msg := g.msgs[uint32(seq)]
		item := historyMsg{Seq: uint32(seq), Priority: 1, MsgBody: []json.RawMessage{}}
		switch {
		case msg == nil || msg.deleted:
			item.IsPlaceMsg = 1
		case msg.recalled && !withRecalled:
			continue
		case msg.recalled:
			item.IsPlaceMsg = 2
		case expiredBefore != 0 && msg.time < expiredBefore:
			item.IsPlaceMsg = 1
			expired++
		default:
			item.MsgBody = msg.body
		}
		if msg != nil {
			item.From, item.Random, item.Time = g.accountOf(msg), msg.random, msg.time
		}
		ans.RspMsgList = append(ans.RspMsgList, item)
	}
	switch {
	case *req.ReqMsgNumber > maxHistoryPage:
		ans.IsFinished = 0
	case len(ans.RspMsgList) > 0 && expired == len(ans.RspMsgList):
		ans.IsFinished = 2
	}
	return ans
}

// accountOf names a message's sender: the member, or the account an admin
// or non-member sent it as.
func (g *group) accountOf(msg *message) string {
	if msg.sender >= 0 && msg.sender < len(g.members) {
		return g.members[msg.sender]
	}
	return msg.from
}

// lastMsgTime is the send time of the group's newest message, 0 if none.
func (g *group) lastMsgTime() int64 {
	var t int64
	for _, m := range g.msgs {
		t = max(t, m.time)
	}
	return t
}

// profileTags are the standard profile tags portrait_get knows; any
// Tag_Profile_Custom_* is accepted too.
var profileTags = map[string]bool{
	"Tag_Profile_IM_Nick": true, "Tag_Profile_IM_AllowType": true, "Tag_Profile_IM_SelfSignature": true,
	"Tag_Profile_IM_Image": true, "Tag_Profile_IM_Gender": true, "Tag_Profile_IM_BirthDay": true,
	"Tag_Profile_IM_Location": true, "Tag_Profile_IM_Language": true, "Tag_Profile_IM_MsgSettings": true,
	"Tag_Profile_IM_AdminForbidType": true, "Tag_Profile_IM_Level": true, "Tag_Profile_IM_Role": true,
}

type profileItem struct {
	Tag   string `json:"Tag"`
	Value any    `json:"Value"`
}

type userProfile struct {
	Account    string        `json:"To_Account"`
	Items      []profileItem `json:"ProfileItem,omitempty"`
	ResultCode int           `json:"ResultCode"`
	ResultInfo string        `json:"ResultInfo"`
}

type portraitAnswer struct {
	envelope
	UserProfileItem []userProfile `json:"UserProfileItem"`
	FailAccount     []string      `json:"Fail_Account,omitempty"`
}

// portraitGet is portrait_get: 1 to 100 accounts (none: 40002; more: 40001,
// the code UNVERIFIED), TagList required (40001) with known tags only (an
// unknown one: 40009 for the whole request, the level UNVERIFIED). An
// account the app never imported (in no group, without a profile) gets
// ResultCode 40003 and a Fail_Account entry, the others their requested
// tags that have a value (the emulator keeps nicknames only).
func (e *Emulator) portraitGet(appID uint64, body []byte) answer {
	var req struct {
		To      []string `json:"To_Account"`
		TagList []string `json:"TagList"`
	}
	if code := decode(body, &req); code != CodeOK {
		return fail(code)
	}
	switch {
	case len(req.To) == 0:
		return fail(CodeProfileNoAccount)
	case len(req.To) > maxPortraitUsers, len(req.TagList) == 0:
		return fail(CodeProfileInvalidParam)
	}
	for _, t := range req.TagList {
		if !profileTags[t] && !strings.HasPrefix(t, "Tag_Profile_Custom_") {
			return fail(CodeProfileUnknownTag)
		}
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	a := e.apps[appID]
	ans := portraitAnswer{envelope: okEnvelope(), UserProfileItem: make([]userProfile, 0, len(req.To))}
	for _, acct := range req.To {
		nick, hasNick := a.nicks[acct]
		if !hasNick && !a.imported(acct) {
			ans.UserProfileItem = append(ans.UserProfileItem, userProfile{Account: acct, ResultCode: CodeProfileNotFound, ResultInfo: errorText(CodeProfileNotFound)})
			ans.FailAccount = append(ans.FailAccount, acct)
			continue
		}
		up := userProfile{Account: acct}
		for _, t := range req.TagList {
			if t == "Tag_Profile_IM_Nick" && nick != "" {
				up.Items = append(up.Items, profileItem{Tag: t, Value: nick})
			}
		}
		ans.UserProfileItem = append(ans.UserProfileItem, up)
	}
	return ans
}

// imported reports whether acct is an account of the app: an admin or a
// member of one of its groups.
func (a *app) imported(acct string) bool {
	if a.admins[acct] {
		return true
	}
	for _, g := range a.groups {
		if _, ok := g.index[acct]; ok {
			return true
		}
	}
	return false
}
