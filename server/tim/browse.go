package tim

import (
	"context"
	"encoding/json"
	"fmt"
)

// The browse commands: the app's group directory, group profiles, a group's
// message history and the accounts' nicknames (tencent-browse-apis.md). They
// go through the same signing, retries and error classification as the
// receipt calls; get_appid_group_list has a limiter of its own at its
// documented 1 call/s (CommandLimits).

// Browse command names, also used in Error.Command and Hooks.OnCall.
const (
	CmdGetGroupList      = "get_appid_group_list"
	CmdGetGroupInfo      = "get_group_info"
	CmdGroupMsgGetSimple = "group_msg_get_simple"
	CmdPortraitGet       = "portrait_get"
)

// CommandLimits are the documented per-app rates (calls/s) of the commands
// whose limit is not the app's RateLimit; each gets a limiter of its own.
var CommandLimits = map[string]float64{CmdGetGroupList: 1}

// Documented page sizes of the browse commands.
const (
	MaxGroupListPage = 10000 // get_appid_group_list Limit
	MaxGroupInfoIDs  = 50    // get_group_info GroupIdList
	MaxHistoryPage   = 20    // group_msg_get_simple ReqMsgNumber
	MaxPortraitUsers = 100   // portrait_get To_Account
)

// GroupListPage is one page of an app's group IDs. Next is the cursor of the
// next page; 0 means the listing is complete.
type GroupListPage struct {
	IDs   []string
	Total int
	Next  uint64
}

// GroupList fetches one page of the app's group IDs (get_appid_group_list):
// start with next 0 and pass each page's Next until it is 0. limit is
// clamped to 1..10000 (0 means 10000); groupType "" lists every type.
func (c *Client) GroupList(ctx context.Context, next uint64, limit int, groupType string) (*GroupListPage, error) {
	if limit <= 0 || limit > MaxGroupListPage {
		limit = MaxGroupListPage
	}
	req := struct {
		Limit     int    `json:"Limit"`
		Next      uint64 `json:"Next"`
		GroupType string `json:"GroupType,omitempty"`
	}{limit, next, groupType}
	var resp struct {
		TotalCount  int `json:"TotalCount"`
		GroupIDList []struct {
			GroupID string `json:"GroupId"`
		} `json:"GroupIdList"`
		Next uint64 `json:"Next"`
	}
	if err := c.call(ctx, groupService, CmdGetGroupList, req, &resp, nil); err != nil {
		return nil, err
	}
	p := &GroupListPage{IDs: make([]string, 0, len(resp.GroupIDList)), Total: resp.TotalCount, Next: resp.Next}
	for _, g := range resp.GroupIDList {
		p.IDs = append(p.IDs, g.GroupID)
	}
	return p, nil
}

// GroupInfo is a group's profile as the directory shows it. Code is the
// per-group code: 0, or 10010 (no such group), 10015 (bad ID)...
type GroupInfo struct {
	ID          string
	Code        int
	Type, Name  string
	MemberNum   int
	NextMsgSeq  uint64
	LastMsgTime int64
}

// GroupInfos fetches the profiles of up to 50 groups (get_group_info), in
// the order asked; a group's own failure is its Code, not an error.
func (c *Client) GroupInfos(ctx context.Context, ids []string) ([]GroupInfo, error) {
	if len(ids) == 0 || len(ids) > MaxGroupInfoIDs {
		return nil, fmt.Errorf("group infos: %w: %d IDs, want 1 to %d", ErrInvalid, len(ids), MaxGroupInfoIDs)
	}
	req := struct {
		GroupIDList    []string `json:"GroupIdList"`
		ResponseFilter struct {
			GroupBaseInfoFilter []string `json:"GroupBaseInfoFilter"`
		} `json:"ResponseFilter"`
	}{GroupIDList: ids}
	req.ResponseFilter.GroupBaseInfoFilter = []string{"Type", "Name", "MemberNum", "NextMsgSeq", "LastMsgTime"}
	var resp struct {
		GroupInfo []struct {
			GroupID     string `json:"GroupId"`
			ErrorCode   int    `json:"ErrorCode"`
			Type        string `json:"Type"`
			Name        string `json:"Name"`
			MemberNum   int    `json:"MemberNum"`
			NextMsgSeq  uint64 `json:"NextMsgSeq"`
			LastMsgTime int64  `json:"LastMsgTime"`
		} `json:"GroupInfo"`
	}
	if err := c.call(ctx, groupService, CmdGetGroupInfo, req, &resp, nil); err != nil {
		return nil, err
	}
	byID := make(map[string]GroupInfo, len(resp.GroupInfo))
	for _, g := range resp.GroupInfo {
		byID[g.GroupID] = GroupInfo{ID: g.GroupID, Code: g.ErrorCode, Type: g.Type, Name: g.Name, MemberNum: g.MemberNum, NextMsgSeq: g.NextMsgSeq, LastMsgTime: g.LastMsgTime}
	}
	out := make([]GroupInfo, len(ids))
	for i, id := range ids {
		g, ok := byID[id]
		if !ok {
			g = GroupInfo{ID: id, Code: CodeMissing}
		}
		out[i] = g
	}
	return out, nil
}

// HistoryMessage is one message of a group's history. Placeholder is
// Tencent's IsPlaceMsg: 0 a message, 1 deleted or expired (no body), 2
// recalled. Body is the raw MsgBody, for the caller to render.
type HistoryMessage struct {
	Seq         uint32
	From        string
	Time        int64
	Placeholder int
	Body        []MsgElem
}

// MsgElem is one element of a message body: its TIM type (TIMTextElem...)
// and its content as sent.
type MsgElem struct {
	Type    string          `json:"MsgType"`
	Content json.RawMessage `json:"MsgContent"`
}

// HistoryPage is one page of a group's history, newest first. Finished is
// Tencent's IsFinished: 1 the page is complete, 0 more was asked for than
// one call returns, 2 everything in range had expired (retention).
type HistoryPage struct {
	Messages []HistoryMessage
	Finished int
}

// GroupHistory fetches up to count (1..20) messages with seq ≤ before,
// newest first (group_msg_get_simple); before 0 means the newest. The next
// page asks for before = the smallest seq returned − 1.
func (c *Client) GroupHistory(ctx context.Context, groupID string, before uint32, count int, withRecalled bool) (*HistoryPage, error) {
	if groupID == "" {
		return nil, fmt.Errorf("group history: %w: empty group ID", ErrInvalid)
	}
	if count <= 0 || count > MaxHistoryPage {
		count = MaxHistoryPage
	}
	req := struct {
		GroupID         string `json:"GroupId"`
		ReqMsgNumber    int    `json:"ReqMsgNumber"`
		ReqMsgSeq       uint32 `json:"ReqMsgSeq,omitempty"`
		WithRecalledMsg int    `json:"WithRecalledMsg,omitempty"`
	}{GroupID: groupID, ReqMsgNumber: count, ReqMsgSeq: before}
	if withRecalled {
		req.WithRecalledMsg = 1
	}
	var resp struct {
		IsFinished int `json:"IsFinished"`
		RspMsgList []struct {
			From       string    `json:"From_Account"`
			IsPlaceMsg int       `json:"IsPlaceMsg"`
			MsgSeq     uint32    `json:"MsgSeq"`
			Time       int64     `json:"MsgTimeStamp"`
			MsgBody    []MsgElem `json:"MsgBody"`
		} `json:"RspMsgList"`
	}
	if err := c.call(ctx, groupService, CmdGroupMsgGetSimple, req, &resp, nil); err != nil {
		return nil, err
	}
	p := &HistoryPage{Finished: resp.IsFinished, Messages: make([]HistoryMessage, 0, len(resp.RspMsgList))}
	for _, m := range resp.RspMsgList {
		p.Messages = append(p.Messages, HistoryMessage{Seq: m.MsgSeq, From: m.From, Time: m.Time, Placeholder: m.IsPlaceMsg, Body: m.MsgBody})
	}
	return p, nil
}

// Nicknames fetches the nicknames of up to 100 accounts (portrait_get with
// Tag_Profile_IM_Nick). An account Tencent does not know, or one without a
// nickname, is absent from the map; only a failed call is an error.
func (c *Client) Nicknames(ctx context.Context, accounts []string) (map[string]string, error) {
	if len(accounts) == 0 || len(accounts) > MaxPortraitUsers {
		return nil, fmt.Errorf("nicknames: %w: %d accounts, want 1 to %d", ErrInvalid, len(accounts), MaxPortraitUsers)
	}
	req := struct {
		To      []string `json:"To_Account"`
		TagList []string `json:"TagList"`
	}{accounts, []string{"Tag_Profile_IM_Nick"}}
	var resp struct {
		UserProfileItem []struct {
			To         string `json:"To_Account"`
			ResultCode int    `json:"ResultCode"`
			Items      []struct {
				Tag   string          `json:"Tag"`
				Value json.RawMessage `json:"Value"`
			} `json:"ProfileItem"`
		} `json:"UserProfileItem"`
	}
	if err := c.call(ctx, profileService, CmdPortraitGet, req, &resp, nil); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(resp.UserProfileItem))
	for _, u := range resp.UserProfileItem {
		if u.ResultCode != 0 {
			continue
		}
		for _, it := range u.Items {
			var nick string
			if it.Tag == "Tag_Profile_IM_Nick" && json.Unmarshal(it.Value, &nick) == nil && nick != "" {
				out[u.To] = nick
			}
		}
	}
	return out, nil
}

const profileService = "profile"
