package timemu

// Tencent ErrorCode values the emulator answers with. The meanings come from
// Tencent's V2TIMErrorCode.h and the REST common-error page (see
// tencent-chat-api.md §8); which code the real service picks in a given
// situation is partly a documented choice of this package (see the package
// comment).
const (
	CodeOK = 0

	CodeHTTPParse        = 60002 // malformed URL or query parameter (random, contenttype)
	CodeJSONParse        = 60003 // body empty, not JSON, or not one JSON object
	CodeSDKAppIDInvalid  = 60006 // sdkappid not a number or not a known app
	CodeRateLimited      = 60007 // REST API call frequency over the limit
	CodeBadRequestFormat = 60008 // HTTP request format error: a method other than POST
	CodeUnknownCommand   = 60009 // unknown path, version, service or command
	CodeNeedAdmin        = 60010 // identifier missing or not an App admin
	CodeSDKAppIDMissing  = 60012 // no sdkappid in the URL

	CodeSigExpired            = 70001
	CodeSigEmpty              = 70002
	CodeSigUndecodable        = 70003
	CodeSigCheckFailed        = 70005 // userbuf present where none is expected
	CodeSigBadSignature       = 70009
	CodeSigIdentifierMismatch = 70013
	CodeSigAppMismatch        = 70014

	CodeInternal         = 10002
	CodeInvalidParam     = 10004
	CodePermission       = 10007 // group type or size not eligible for receipts; not a member
	CodeGroupNotFound    = 10010
	CodeGroupFull        = 10014 // not in the doc table: Tencent's "group is full"
	CodeInvalidGroupID   = 10015
	CodeGroupIDUsed      = 10021 // not in the doc table: Tencent's "group ID already used"
	CodeReceiptNotExists = 10062

	// portrait_get (v4/profile) has codes of its own.
	CodeProfileInvalidParam = 40001 // e.g. more than 100 accounts (code UNVERIFIED for that case)
	CodeProfileNoAccount    = 40002 // To_Account empty or missing
	CodeProfileNotFound     = 40003 // the account was never imported: per account
	CodeProfileUnknownTag   = 40009 // a Tag that does not exist
)

var codeText = map[int]string{
	CodeHTTPParse:             "HTTP parse error, check the request URL format",
	CodeJSONParse:             "HTTP request JSON parse error",
	CodeSDKAppIDInvalid:       "SDKAppID invalid",
	CodeRateLimited:           "REST API call frequency exceeds the limit",
	CodeBadRequestFormat:      "HTTP request format error, the method must be POST",
	CodeUnknownCommand:        "request resource error, check the URL",
	CodeNeedAdmin:             "this request requires App admin permission",
	CodeSDKAppIDMissing:       "REST API requires SDKAppID in the URL",
	CodeSigExpired:            "UserSig expired, please regenerate it",
	CodeSigEmpty:              "UserSig length is 0",
	CodeSigUndecodable:        "UserSig check failed: parse failed",
	CodeSigCheckFailed:        "UserSig check failed",
	CodeSigBadSignature:       "UserSig signature check failed: key and SDKAppID do not match",
	CodeSigIdentifierMismatch: "identifier does not match the UserSig",
	CodeSigAppMismatch:        "SDKAppID does not match the UserSig",
	CodeInternal:              "internal server error, please retry",
	CodeInvalidParam:          "invalid parameter",
	CodePermission:            "insufficient permission",
	CodeGroupNotFound:         "group does not exist or has been dismissed",
	CodeGroupFull:             "group is full",
	CodeInvalidGroupID:        "invalid group ID",
	CodeGroupIDUsed:           "group ID already used",
	CodeProfileInvalidParam:   "Err_Profile_Comm_Decode_Fail",
	CodeProfileNoAccount:      "Err_Profile_Comm_Empty_Account",
	CodeProfileNotFound:       "Err_Profile_PortraitGet_Account_Not_Found",
	CodeProfileUnknownTag:     "Err_Profile_PortraitGet_Tag_Not_Exist",
	CodeReceiptNotExists:      "read receipt info does not exist",
}

// errorText is the ErrorInfo for code; clients must not match on it.
func errorText(code int) string {
	if s, ok := codeText[code]; ok {
		return s
	}
	return "error"
}
