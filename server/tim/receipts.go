package tim

import (
	"context"
	"fmt"
	"slices"
)

const groupService = "group_open_http_svc"

// Tencent command names, also used in Error.Command and Hooks.OnCall.
const (
	CmdGroupMsgReceipt       = "get_group_msg_receipt"
	CmdGroupMsgReceiptDetail = "get_group_msg_receipt_detail"
	CmdMarkGroupMsgRead      = "group_msg_receipt"
	CmdSendGroupMsg          = "send_group_msg"
)

// Limits documented by Tencent.
const (
	// MaxMemberPage is the largest Count of one member-list page.
	MaxMemberPage = 200
	// MaxMarkSeqs is the most seqs group_msg_receipt accepts per call.
	MaxMarkSeqs = 50
)

// CodeMissing is the Receipt.Code of a seq Tencent's answer left out, so a
// short answer shows up per seq instead of silently reading as zero counts.
const CodeMissing = -1

// CodeNotFetched is the Receipt.Code of a seq whose batch failed after its
// retries in a partial pull; Receipt.Err says why.
const CodeNotFetched = -2

// Receipt is the read state of one message. Code is Tencent's per-item code
// (0 OK, 10062 no receipt for that seq, ...); a non-zero Code fails only that
// seq, never the whole query.
type Receipt struct {
	Seq          uint32
	Read, Unread int
	Code         int
	// Err is the cause of CodeNotFetched; nil otherwise.
	Err *Error
}

type seqItem struct {
	MsgSeq uint32 `json:"MsgSeq"`
}

func seqList(seqs []uint32) []seqItem {
	out := make([]seqItem, len(seqs))
	for i, s := range seqs {
		out[i] = seqItem{s}
	}
	return out
}

// GroupMsgReceipts asks for the read/unread counts of seqs in one call
// (get_group_msg_receipt). The result has one Receipt per requested seq, in
// the order requested. Use PullReceipts for more than one batch.
func (c *Client) GroupMsgReceipts(ctx context.Context, groupID string, seqs []uint32) ([]Receipt, error) {
	return c.groupMsgReceipts(ctx, groupID, seqs, nil)
}

func (c *Client) groupMsgReceipts(ctx context.Context, groupID string, seqs []uint32, st *stats) ([]Receipt, error) {
	if groupID == "" {
		return nil, fmt.Errorf("group msg receipts: %w: empty group ID", ErrInvalid)
	}
	if len(seqs) == 0 {
		return nil, fmt.Errorf("group msg receipts: %w: no seqs", ErrInvalid)
	}
	req := struct {
		GroupID    string    `json:"GroupId"`
		MsgSeqList []seqItem `json:"MsgSeqList"`
	}{groupID, seqList(seqs)}
	var resp struct {
		List []struct {
			Code      int    `json:"Code"`
			MsgSeq    uint32 `json:"MsgSeq"`
			ReadNum   int    `json:"ReadNum"`
			UnreadNum int    `json:"UnreadNum"`
		} `json:"GroupMsgReceiptList"`
	}
	if err := c.call(ctx, groupService, CmdGroupMsgReceipt, req, &resp, st); err != nil {
		return nil, err
	}
	bySeq := make(map[uint32]Receipt, len(resp.List))
	for _, it := range resp.List {
		r := Receipt{Seq: it.MsgSeq, Code: it.Code}
		if it.Code == 0 {
			// Counts of failed items are absent or meaningless.
			r.Read, r.Unread = it.ReadNum, it.UnreadNum
		}
		bySeq[it.MsgSeq] = r
	}
	out := make([]Receipt, len(seqs))
	for i, s := range seqs {
		r, ok := bySeq[s]
		if !ok {
			r = Receipt{Seq: s, Code: CodeMissing}
		}
		out[i] = r
	}
	return out, nil
}

// Filter selects the member list of GroupMsgReceiptMembers; the values are
// Tencent's.
type Filter int

// The two member lists of a message.
const (
	FilterRead   Filter = 0
	FilterUnread Filter = 1
)

// MemberPage is one page of a message's readers or non-readers. Pass Cursor
// to the next call until Done.
type MemberPage struct {
	Members []string
	Cursor  string
	Done    bool
}

// GroupMsgReceiptMembers fetches one page of the members who have (or have
// not) read message seq (get_group_msg_receipt_detail). Start with cursor "".
// count is clamped to 1..200 (0 means 200).
//
// The answer's field names are only partly documented, so both IsFinish and
// IsFinished end the listing, either list (ReadList/UnreadList) is read,
// and an answer without a cursor is the last page (it cannot be continued).
func (c *Client) GroupMsgReceiptMembers(ctx context.Context, groupID string, seq uint32, filter Filter, cursor string, count int) (*MemberPage, error) {
	if groupID == "" {
		return nil, fmt.Errorf("group msg receipt members: %w: empty group ID", ErrInvalid)
	}
	if filter != FilterRead && filter != FilterUnread {
		return nil, fmt.Errorf("group msg receipt members: %w: filter %d", ErrInvalid, filter)
	}
	if count <= 0 || count > MaxMemberPage {
		count = MaxMemberPage
	}
	req := struct {
		GroupID string `json:"GroupId"`
		MsgSeq  uint32 `json:"MsgSeq"`
		Filter  Filter `json:"Filter"`
		Cursor  string `json:"Cursor"`
		Count   int    `json:"Count"`
	}{groupID, seq, filter, cursor, count}
	type account struct {
		Read   string `json:"Read_Account"`
		Unread string `json:"Unread_Account"`
	}
	var resp struct {
		IsFinish   int       `json:"IsFinish"`
		IsFinished int       `json:"IsFinished"`
		Cursor     string    `json:"Cursor"`
		ReadList   []account `json:"ReadList"`
		UnreadList []account `json:"UnreadList"`
	}
	if err := c.call(ctx, groupService, CmdGroupMsgReceiptDetail, req, &resp, nil); err != nil {
		return nil, err
	}
	list := resp.ReadList
	other := resp.UnreadList
	if filter == FilterUnread {
		list, other = other, list
	}
	if list == nil {
		list = other
	}
	page := &MemberPage{Members: make([]string, 0, len(list)), Cursor: resp.Cursor}
	for _, a := range list {
		m := a.Read
		if m == "" {
			m = a.Unread
		}
		if m != "" {
			page.Members = append(page.Members, m)
		}
	}
	page.Done = resp.IsFinish == 1 || resp.IsFinished == 1 || resp.Cursor == ""
	if page.Done {
		page.Cursor = ""
	}
	return page, nil
}

// MarkGroupMsgRead marks seqs as read by member (group_msg_receipt), the way
// seeding tools and end-to-end tests create read state. More than 50 seqs are
// sent in several calls.
func (c *Client) MarkGroupMsgRead(ctx context.Context, groupID, member string, seqs []uint32) error {
	if groupID == "" || member == "" {
		return fmt.Errorf("mark group msg read: %w: empty group ID or member", ErrInvalid)
	}
	for chunk := range slices.Chunk(seqs, MaxMarkSeqs) {
		req := struct {
			GroupID    string    `json:"GroupId"`
			From       string    `json:"From_Account"`
			MsgSeqList []seqItem `json:"MsgSeqList"`
		}{groupID, member, seqList(chunk)}
		if err := c.call(ctx, groupService, CmdMarkGroupMsgRead, req, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// SendGroupMsg sends a text message to a group, from member `from` (or the
// admin when empty), optionally asking for read receipts, and returns its
// MsgSeq: the key of the receipt APIs. The message's Random is fixed across
// retries so that Tencent can drop a duplicate of a retried send.
func (c *Client) SendGroupMsg(ctx context.Context, groupID, from, text string, needReceipt bool) (uint32, error) {
	if groupID == "" || text == "" {
		return 0, fmt.Errorf("send group msg: %w: empty group ID or text", ErrInvalid)
	}
	type content struct {
		Text string `json:"Text"`
	}
	type elem struct {
		MsgType    string  `json:"MsgType"`
		MsgContent content `json:"MsgContent"`
	}
	req := struct {
		GroupID         string `json:"GroupId"`
		From            string `json:"From_Account,omitempty"`
		Random          uint32 `json:"Random"`
		MsgBody         []elem `json:"MsgBody"`
		NeedReadReceipt int    `json:"NeedReadReceipt,omitempty"`
	}{GroupID: groupID, From: from, Random: random32(), MsgBody: []elem{{"TIMTextElem", content{text}}}}
	if needReceipt {
		req.NeedReadReceipt = 1
	}
	var resp struct {
		MsgSeq uint32 `json:"MsgSeq"`
	}
	if err := c.call(ctx, groupService, CmdSendGroupMsg, req, &resp, nil); err != nil {
		return 0, err
	}
	return resp.MsgSeq, nil
}
