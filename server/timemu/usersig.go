package timemu

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
)

// maxSigLen and maxSigJSON bound the work one UserSig can cause: real
// UserSigs are a few hundred bytes, so anything far larger is refused as
// undecodable instead of being inflated (a zlib bomb).
const (
	maxSigLen  = 4096
	maxSigJSON = 16 << 10
)

// sigDoc is a decoded UserSig. The numbers stay raw JSON and are parsed with
// strconv, so that a quoted number, a fraction or an out-of-range value is
// "undecodable", as it would be for the vendor's uint64/int64 fields.
type sigDoc struct {
	Ver        string          `json:"TLS.ver"`
	Identifier string          `json:"TLS.identifier"`
	SDKAppID   json.RawMessage `json:"TLS.sdkappid"`
	Expire     json.RawMessage `json:"TLS.expire"`
	Time       json.RawMessage `json:"TLS.time"`
	UserBuf    *string         `json:"TLS.userbuf"`
	Sig        string          `json:"TLS.sig"`
}

// decodedSig is what a well-formed UserSig says about itself.
type decodedSig struct {
	Identifier string
	SDKAppID   uint64
	Time       int64
	Expire     int64
	HasUserBuf bool
}

var errSigDecode = errors.New("usersig undecodable")

// decodeUserSig runs the decoding half of the vendor's verifier itself, so that
// every parse failure is reported as 70003. The vendor verifier swallows JSON
// errors and then reports "sdk appid not match", which would hide the cause.
func decodeUserSig(s string) (decodedSig, error) {
	if len(s) > maxSigLen {
		return decodedSig{}, errSigDecode
	}
	s = strings.NewReplacer("_", "=", "-", "/", "*", "+").Replace(s)
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return decodedSig{}, errSigDecode
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return decodedSig{}, errSigDecode
	}
	data, err := io.ReadAll(io.LimitReader(zr, maxSigJSON+1))
	if err != nil || len(data) > maxSigJSON {
		return decodedSig{}, errSigDecode
	}
	if err := zr.Close(); err != nil {
		return decodedSig{}, errSigDecode
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var doc sigDoc
	if err := dec.Decode(&doc); err != nil {
		return decodedSig{}, errSigDecode
	}
	// Only whitespace (the v1.4 layout's trailing newline) may follow.
	if len(bytes.TrimSpace(data[dec.InputOffset():])) != 0 {
		return decodedSig{}, errSigDecode
	}
	var d decodedSig
	d.Identifier = doc.Identifier
	if d.SDKAppID, err = strconv.ParseUint(string(doc.SDKAppID), 10, 64); err != nil {
		return decodedSig{}, errSigDecode
	}
	if d.Time, err = strconv.ParseInt(string(doc.Time), 10, 64); err != nil {
		return decodedSig{}, errSigDecode
	}
	if d.Expire, err = strconv.ParseInt(string(doc.Expire), 10, 64); err != nil {
		return decodedSig{}, errSigDecode
	}
	if d.Identifier == "" || doc.Sig == "" {
		return decodedSig{}, errSigDecode
	}
	if _, err := base64.StdEncoding.DecodeString(doc.Sig); err != nil {
		return decodedSig{}, errSigDecode
	}
	if doc.UserBuf != nil {
		if _, err := base64.StdEncoding.DecodeString(*doc.UserBuf); err != nil {
			return decodedSig{}, errSigDecode
		}
		d.HasUserBuf = true
	}
	return d, nil
}

// CheckUserSig answers the Tencent ErrorCode the emulator gives a request's
// UserSig: 0 when it is valid for sdkAppID, key and identifier at now. It is
// exported so that signing code can be tested against the emulator's rules
// without HTTP. Decoding is ours (every parse failure is 70003); the checks
// are the vendor's VerifyUserSig, so that both vendor layouts (and any other
// well-formed encoding) verify exactly as Tencent's own library does.
func CheckUserSig(sdkAppID uint64, key, identifier, usersig string, now time.Time) int {
	code, _ := checkUserSig(sdkAppID, key, identifier, usersig, now)
	return code
}

// checkUserSig is CheckUserSig that also returns the last second of validity
// of an accepted UserSig.
func checkUserSig(sdkAppID uint64, key, identifier, usersig string, now time.Time) (int, int64) {
	if usersig == "" {
		return CodeSigEmpty, 0
	}
	d, err := decodeUserSig(usersig)
	if err != nil {
		return CodeSigUndecodable, 0
	}
	return verifyCode(tencentyun.VerifyUserSig(sdkAppID, key, identifier, usersig, now)), d.Time + d.Expire
}

// verifyCode maps the vendor verifier's errors to Tencent codes.
func verifyCode(err error) int {
	switch {
	case err == nil:
		return CodeOK
	case errors.Is(err, tencentyun.ErrSdkAppIDNotMatch):
		return CodeSigAppMismatch
	case errors.Is(err, tencentyun.ErrIdentifierNotMatch):
		return CodeSigIdentifierMismatch
	case errors.Is(err, tencentyun.ErrExpired):
		return CodeSigExpired
	case errors.Is(err, tencentyun.ErrSigNotMatch):
		return CodeSigBadSignature
	case errors.Is(err, tencentyun.ErrUserBufTypeNotMatch), errors.Is(err, tencentyun.ErrUserBufNotMatch):
		return CodeSigCheckFailed
	default:
		return CodeSigUndecodable
	}
}

// sigCacheKey identifies a verified UserSig; the key is part of it so that a
// key replaced by AddApp invalidates earlier results.
type sigCacheKey struct {
	app                  uint64
	key, identifier, sig string
}

// maxSigCache bounds the cache; when full it starts over.
const maxSigCache = 4096

// checkSig is CheckUserSig with a cache of accepted UserSigs, as a real
// gateway would keep: clients reuse one UserSig for many calls, and
// inflating it twice per call would dominate the emulator's cost. Only the
// expiry is checked again on a hit.
func (e *Emulator) checkSig(appID uint64, key, identifier, usersig string, now time.Time) int {
	k := sigCacheKey{appID, key, identifier, usersig}
	e.sigMu.Lock()
	until, ok := e.sigCache[k]
	e.sigMu.Unlock()
	if ok {
		if now.Unix() > until {
			return CodeSigExpired
		}
		return CodeOK
	}
	code, until := checkUserSig(appID, key, identifier, usersig, now)
	if code == CodeOK {
		e.sigMu.Lock()
		if len(e.sigCache) >= maxSigCache {
			clear(e.sigCache)
		}
		e.sigCache[k] = until
		e.sigMu.Unlock()
	}
	return code
}
