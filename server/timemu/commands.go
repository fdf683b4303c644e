package timemu

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Command names, as they appear in the URL and in Calls.
const (
	CmdGetReceipt        = "get_group_msg_receipt"
	CmdGetReceiptDetail  = "get_group_msg_receipt_detail"
	CmdMarkRead          = "group_msg_receipt"
	CmdSendGroupMsg      = "send_group_msg"
	CmdCreateGroup       = "create_group"
	CmdAddGroupMember    = "add_group_member"
	CmdDestroyGroup      = "destroy_group"
	CmdGetGroupInfo      = "get_group_info"
	CmdGetGroupList      = "get_appid_group_list"
	CmdGroupMsgGetSimple = "group_msg_get_simple"
	CmdPortraitGet       = "portrait_get" // under v4/profile/, not group_open_http_svc
)

// Limits of this emulator and of the documented API.
const (
	maxMarkSeqs     = 50  // group_msg_receipt: documented "at most 50 messages"
	maxDetailCount  = 200 // detail Count: documented "must not exceed 200"
	maxInfoGroups   = 50  // get_group_info GroupIdList
	maxAddMembers   = 500 // add_group_member / create_group MemberList per call
	maxGroupNameLen = 100
)

type commandFunc func(e *Emulator, appID uint64, body []byte) answer

var commands map[string]commandFunc

func init() {
	commands = map[string]commandFunc{
		CmdGetReceipt:        (*Emulator).getReceipt,
		CmdGetReceiptDetail:  (*Emulator).getReceiptDetail,
		CmdMarkRead:          (*Emulator).markRead,
		CmdSendGroupMsg:      (*Emulator).sendGroupMsg,
		CmdCreateGroup:       (*Emulator).createGroup,
		CmdAddGroupMember:    (*Emulator).addGroupMember,
		CmdDestroyGroup:      (*Emulator).destroyGroup,
		CmdGetGroupInfo:      (*Emulator).getGroupInfo,
		CmdGetGroupList:      (*Emulator).getGroupList,
		CmdGroupMsgGetSimple: (*Emulator).groupMsgGetSimple,
		CmdPortraitGet:       (*Emulator).portraitGet,
	}
}

type seqItem struct {
	MsgSeq *uint32 `json:"MsgSeq"`
}

// seqList checks a MsgSeqList: not empty, at most limit long (0: no limit),
// every item with a MsgSeq.
func seqList(items []seqItem, limit int) ([]uint32, int) {
	if len(items) == 0 || (limit > 0 && len(items) > limit) {
		return nil, CodeInvalidParam
	}
	seqs := make([]uint32, len(items))
	for i, it := range items {
		if it.MsgSeq == nil {
			return nil, CodeInvalidParam
		}
		seqs[i] = *it.MsgSeq
	}
	return seqs, CodeOK
}

// maxGroupIDLen is the longest group ID the emulator accepts. Tencent's
// create_group documents custom IDs of up to 48 bytes; the emulator applies
// the same bound to every command (UNVERIFIED for the read commands).
const maxGroupIDLen = 48

// validGroupID is the emulator's own group ID rule: 1 to 48 bytes of
// printable ASCII without spaces, as Tencent's generated (@TGS#...) and
// documented custom IDs are. It is deliberately not the console's rule
// (server/api): if the two drift, the BFF's tests see 10015 where they
// expected a refusal before any call, or the other way round.
func validGroupID(id string) bool {
	if id == "" || len(id) > maxGroupIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// findGroup applies the group ID rule and looks the group up. The caller
// holds e.mu.
func (e *Emulator) findGroup(appID uint64, id string) (*app, *group, int) {
	a := e.apps[appID]
	if a == nil {
		return nil, nil, CodeSDKAppIDInvalid // removed concurrently; cannot happen today
	}
	if !validGroupID(id) {
		return a, nil, CodeInvalidGroupID
	}
	g := a.groups[id]
	if g == nil {
		return a, nil, CodeGroupNotFound
	}
	return a, g, CodeOK
}

// receiptGroup is findGroup plus the receipt rules: supported type, at most
// 200 members.
func (e *Emulator) receiptGroup(appID uint64, id string) (*app, *group, int) {
	a, g, code := e.findGroup(appID, id)
	if code != CodeOK {
		return a, nil, code
	}
	if !receiptType(g.typ) || len(g.members) > MaxReceiptMembers {
		return a, nil, CodePermission
	}
	return a, g, CodeOK
}

// --- get_group_msg_receipt

type receiptItem struct {
	Code      int    `json:"Code"`
	MsgSeq    uint32 `json:"MsgSeq"`
	ReadNum   *int   `json:"ReadNum,omitempty"`
	UnreadNum *int   `json:"UnreadNum,omitempty"`
}

type receiptAnswer struct {
	envelope
	GroupMsgReceiptList []receiptItem `json:"GroupMsgReceiptList"`
}

func (e *Emulator) getReceipt(appID uint64, body []byte) answer {
	var req struct {
		GroupID    string    `json:"GroupId"`
		MsgSeqList []seqItem `json:"MsgSeqList"`
	}
	if code := decode(body, &req); code != CodeOK {
		return fail(code)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	_, g, code := e.receiptGroup(appID, req.GroupID)
	if code != CodeOK {
		return fail(code)
	}
	seqs, code := seqList(req.MsgSeqList, e.cfg.MaxSeqList)
	if code != CodeOK {
		return fail(code)
	}
	ans := receiptAnswer{envelope: okEnvelope(), GroupMsgReceiptList: make([]receiptItem, len(seqs))}
	for i, seq := range seqs {
		msg := g.msgs[seq]
		if msg == nil || !msg.needReceipt {
			ans.GroupMsgReceiptList[i] = receiptItem{Code: CodeReceiptNotExists, MsgSeq: seq}
			continue
		}
		read, unread := g.counts(msg, e.cfg.CountSender)
		ans.GroupMsgReceiptList[i] = receiptItem{MsgSeq: seq, ReadNum: &read, UnreadNum: &unread}
	}
	return ans
}

// --- get_group_msg_receipt_detail

type readAccount struct {
	Account string `json:"Read_Account"`
}

type unreadAccount struct {
	Account string `json:"Unread_Account"`
}

type detailAnswer struct {
	envelope
	IsFinished int              `json:"IsFinished"`
	IsFinish   *int             `json:"IsFinish,omitempty"`
	MsgSeq     uint32           `json:"MsgSeq"`
	Cursor     string           `json:"Cursor"`
	ReadList   *[]readAccount   `json:"ReadList,omitempty"`
	UnreadList *[]unreadAccount `json:"UnreadList,omitempty"`
}

// The cursor is opaque to clients: "v1:<seq>:<filter>:<next member index>",
// base64url without padding. It pins the seq and filter it was issued for.
func encodeCursor(seq uint32, filter, next int) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "v1:%d:%d:%d", seq, filter, next))
}

func decodeCursor(c string, seq uint32, filter, members int) (int, bool) {
	if c == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 4 || parts[0] != "v1" || parts[1] != strconv.FormatUint(uint64(seq), 10) || parts[2] != strconv.Itoa(filter) {
		return 0, false
	}
	next, err := strconv.Atoi(parts[3])
	if err != nil || next < 1 || next >= members {
		return 0, false
	}
	return next, true
}

func (e *Emulator) getReceiptDetail(appID uint64, body []byte) answer {
	var req struct {
		GroupID string  `json:"GroupId"`
		MsgSeq  *uint32 `json:"MsgSeq"`
		Filter  *int32  `json:"Filter"`
		Flag    *int32  `json:"Flag"`
		Cursor  *string `json:"Cursor"`
		Count   *int32  `json:"Count"`
		Num     *int32  `json:"Num"`
	}
	if code := decode(body, &req); code != CodeOK {
		return fail(code)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	_, g, code := e.receiptGroup(appID, req.GroupID)
	if code != CodeOK {
		return fail(code)
	}
	filter, count := req.Filter, req.Count
	if filter == nil {
		filter = req.Flag
	}
	if count == nil {
		count = req.Num
	}
	if req.MsgSeq == nil || filter == nil || (*filter != 0 && *filter != 1) || count == nil || *count < 1 {
		return fail(CodeInvalidParam)
	}
	n := int(*count)
	if n > maxDetailCount {
		if e.cfg.RejectCountOver200 {
			return fail(CodeInvalidParam)
		}
		n = maxDetailCount
	}
	cursor := ""
	if req.Cursor != nil {
		cursor = *req.Cursor
	}
	seq, wantRead := *req.MsgSeq, *filter == 0
	start, ok := decodeCursor(cursor, seq, int(*filter), len(g.members))
	if !ok {
		return fail(CodeInvalidParam)
	}
	msg := g.msgs[seq]
	if msg == nil || !msg.needReceipt {
		return fail(CodeReceiptNotExists)
	}
	var page []string
	next := len(g.members)
	for i := start; i < len(g.members); i++ {
		read, aud := g.isRead(msg, i, e.cfg.CountSender)
		if !aud || read != wantRead {
			continue
		}
		if len(page) == n {
			next = i
			break
		}
		page = append(page, g.members[i])
	}
	ans := detailAnswer{envelope: okEnvelope(), MsgSeq: seq}
	if next < len(g.members) {
		ans.Cursor = encodeCursor(seq, int(*filter), next)
	} else {
		ans.IsFinished = 1
	}
	if e.cfg.EmitIsFinish {
		ans.IsFinish = &ans.IsFinished
	}
	if wantRead {
		list := make([]readAccount, len(page))
		for i, m := range page {
			list[i].Account = m
		}
		ans.ReadList = &list
	} else {
		list := make([]unreadAccount, len(page))
		for i, m := range page {
			list[i].Account = m
		}
		ans.UnreadList = &list
	}
	return ans
}

// --- group_msg_receipt

func (e *Emulator) markRead(appID uint64, body []byte) answer {
	var req struct {
		GroupID    string    `json:"GroupId"`
		From       string    `json:"From_Account"`
		MsgSeqList []seqItem `json:"MsgSeqList"`
	}
	if code := decode(body, &req); code != CodeOK {
		return fail(code)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, g, code := e.receiptGroup(appID, req.GroupID)
	if code != CodeOK {
		return fail(code)
	}
	seqs, code := seqList(req.MsgSeqList, maxMarkSeqs)
	if code != CodeOK || req.From == "" {
		return fail(CodeInvalidParam)
	}
	who, ok := g.index[req.From]
	if !ok {
		return fail(CodePermission)
	}
	for _, seq := range seqs {
		if msg := g.msgs[seq]; msg == nil || !msg.needReceipt {
			return fail(CodeReceiptNotExists)
		}
	}
	for _, seq := range seqs {
		msg := g.msgs[seq]
		if who < msg.eligible && who != msg.sender {
			msg.read.set(who)
		}
	}
	return okEnvelope()
}

// --- send_group_msg

type sendAnswer struct {
	envelope
	MsgTime       int64  `json:"MsgTime"`
	MsgSeq        uint32 `json:"MsgSeq"`
	MsgDropReason string `json:"MsgDropReason"`
}

func flag01(v *int32) (bool, bool) {
	if v == nil {
		return false, true
	}
	return *v == 1, *v == 0 || *v == 1
}

func (e *Emulator) sendGroupMsg(appID uint64, body []byte) answer {
	var req struct {
		GroupID           string            `json:"GroupId"`
		From              string            `json:"From_Account"`
		Random            *uint32           `json:"Random"`
		MsgBody           []json.RawMessage `json:"MsgBody"`
		NeedReadReceipt   *int32            `json:"NeedReadReceipt"`
		IsNeedReadReceipt *int32            `json:"IsNeedReadReceipt"`
	}
	if code := decode(body, &req); code != CodeOK {
		return fail(code)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	a, g, code := e.findGroup(appID, req.GroupID)
	if code != CodeOK {
		return fail(code)
	}
	need1, ok1 := flag01(req.NeedReadReceipt)
	need2, ok2 := flag01(req.IsNeedReadReceipt)
	if len(req.MsgBody) == 0 || !ok1 || !ok2 {
		return fail(CodeInvalidParam)
	}
	sender := -1
	if req.From != "" && !a.admins[req.From] {
		i, ok := g.index[req.From]
		if !ok {
			return fail(CodePermission)
		}
		sender = i
	}
	if g.nextSeq > math.MaxUint32 {
		return fail(CodeInternal)
	}
	seq := uint32(g.nextSeq)
	g.nextSeq++
	now := e.now().Unix()
	var random uint32
	if req.Random != nil {
		random = *req.Random
	}
	g.msgs[seq] = &message{sender: sender, needReceipt: need1 || need2, eligible: len(g.members),
		time: now, from: req.From, random: random, body: req.MsgBody}
	return sendAnswer{envelope: okEnvelope(), MsgTime: now, MsgSeq: seq}
}

// --- create_group, add_group_member, destroy_group, get_group_info

type memberItem struct {
	Account string `json:"Member_Account"`
}

type createAnswer struct {
	envelope
	GroupID string `json:"GroupId"`
}

// canonicalType maps accepted type names; "" when unknown.
func canonicalType(t string) string {
	if _, ok := maxMembers[t]; ok {
		return t
	}
	return ""
}

func (e *Emulator) createGroup(appID uint64, body []byte) answer {
	var req struct {
		Owner      string       `json:"Owner_Account"`
		Type       string       `json:"Type"`
		GroupID    string       `json:"GroupId"`
		Name       string       `json:"Name"`
		MemberList []memberItem `json:"MemberList"`
	}
	if code := decode(body, &req); code != CodeOK {
		return fail(code)
	}
	typ := canonicalType(req.Type)
	if typ == "" || req.Name == "" || len(req.Name) > maxGroupNameLen || len(req.MemberList) > maxAddMembers {
		return fail(CodeInvalidParam)
	}
	for _, m := range req.MemberList {
		if m.Account == "" {
			return fail(CodeInvalidParam)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.apps[appID]
	id := req.GroupID
	if id != "" {
		if !validGroupID(id) {
			return fail(CodeInvalidGroupID)
		}
		if a.groups[id] != nil {
			return fail(CodeGroupIDUsed)
		}
	} else {
		for id == "" || a.groups[id] != nil {
			a.nextID++
			id = generatedGroupID(appID, a.nextID)
		}
	}
	g := newGroup(id, typ, req.Name, req.Owner)
	if req.Owner != "" {
		g.addMember(req.Owner)
	}
	for _, m := range req.MemberList {
		g.addMember(m.Account)
	}
	if len(g.members) > maxMembers[typ] {
		return fail(CodeGroupFull)
	}
	a.groups[id] = g
	return createAnswer{envelope: okEnvelope(), GroupID: id}
}

// generatedGroupID makes IDs that look like Tencent's ("@TGS#2" + letters),
// deterministic per app and counter.
func generatedGroupID(appID uint64, n int) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	x := appID*1000003 + uint64(n)*7919
	var b [9]byte
	for i := range b {
		b[i] = letters[x%26]
		x = x/26 + uint64(n)*31
	}
	return "@TGS#2" + string(b[:])
}

type addResult struct {
	Account string `json:"Member_Account"`
	Result  int    `json:"Result"` // 0 failed, 1 added, 2 already a member
}

type addAnswer struct {
	envelope
	MemberList []addResult `json:"MemberList"`
}

func (e *Emulator) addGroupMember(appID uint64, body []byte) answer {
	var req struct {
		GroupID    string       `json:"GroupId"`
		Silence    int32        `json:"Silence"`
		MemberList []memberItem `json:"MemberList"`
	}
	if code := decode(body, &req); code != CodeOK {
		return fail(code)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, g, code := e.findGroup(appID, req.GroupID)
	if code != CodeOK {
		return fail(code)
	}
	if len(req.MemberList) == 0 || len(req.MemberList) > maxAddMembers {
		return fail(CodeInvalidParam)
	}
	fresh := 0
	seen := map[string]bool{}
	for _, m := range req.MemberList {
		if m.Account == "" {
			return fail(CodeInvalidParam)
		}
		if _, ok := g.index[m.Account]; !ok && !seen[m.Account] {
			fresh++
		}
		seen[m.Account] = true
	}
	if len(g.members)+fresh > maxMembers[g.typ] {
		return fail(CodeGroupFull)
	}
	ans := addAnswer{envelope: okEnvelope(), MemberList: make([]addResult, len(req.MemberList))}
	for i, m := range req.MemberList {
		r := 2
		if g.addMember(m.Account) {
			r = 1
		}
		ans.MemberList[i] = addResult{Account: m.Account, Result: r}
	}
	return ans
}

func (e *Emulator) destroyGroup(appID uint64, body []byte) answer {
	var req struct {
		GroupID string `json:"GroupId"`
	}
	if code := decode(body, &req); code != CodeOK {
		return fail(code)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	a, _, code := e.findGroup(appID, req.GroupID)
	if code != CodeOK {
		return fail(code)
	}
	delete(a.groups, req.GroupID)
	return okEnvelope()
}

type groupInfo struct {
	GroupID      string       `json:"GroupId"`
	ErrorCode    int          `json:"ErrorCode"`
	ErrorInfo    string       `json:"ErrorInfo"`
	Type         string       `json:"Type,omitempty"`
	Name         string       `json:"Name,omitempty"`
	Owner        string       `json:"Owner_Account,omitempty"`
	MemberNum    int          `json:"MemberNum,omitempty"`
	MaxMemberNum int          `json:"MaxMemberNum,omitempty"`
	NextMsgSeq   uint64       `json:"NextMsgSeq,omitempty"`
	LastMsgTime  int64        `json:"LastMsgTime,omitempty"`
	MemberList   []memberItem `json:"MemberList,omitempty"`
}

type infoAnswer struct {
	envelope
	GroupInfo []groupInfo `json:"GroupInfo"`
}

func (e *Emulator) getGroupInfo(appID uint64, body []byte) answer {
	var req struct {
		GroupIDList []string `json:"GroupIdList"`
	}
	if code := decode(body, &req); code != CodeOK {
		return fail(code)
	}
	if len(req.GroupIDList) == 0 || len(req.GroupIDList) > maxInfoGroups {
		return fail(CodeInvalidParam)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	ans := infoAnswer{envelope: okEnvelope(), GroupInfo: make([]groupInfo, len(req.GroupIDList))}
	for i, id := range req.GroupIDList {
		_, g, code := e.findGroup(appID, id)
		if code != CodeOK {
			ans.GroupInfo[i] = groupInfo{GroupID: id, ErrorCode: code, ErrorInfo: errorText(code)}
			continue
		}
		members := make([]memberItem, len(g.members))
		for j, m := range g.members {
			members[j].Account = m
		}
		ans.GroupInfo[i] = groupInfo{
			GroupID: id, Type: g.typ, Name: g.name, Owner: g.owner,
			MemberNum: len(g.members), MaxMemberNum: maxMembers[g.typ], NextMsgSeq: g.nextSeq, LastMsgTime: g.lastMsgTime(),
			MemberList: members,
		}
	}
	return ans
}
