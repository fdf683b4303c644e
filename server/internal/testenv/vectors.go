package testenv

import (
	_ "embed"
	"encoding/json"
	"testing"
)

// vectorsJSON is the one copy of the shared UserSig test vectors
// (../shared/testdata/usersig-vectors.json in the project's docs).
//
//go:embed testdata/usersig-vectors.json
var vectorsJSON []byte

// Vector is one UserSig test vector: the inputs, the expected signature and
// both token layouts Tencent's libraries produce.
type Vector struct {
	SDKAppID   uint64 `json:"sdkappid"`
	Key        string `json:"key"`
	Identifier string `json:"identifier"`
	Expire     int64  `json:"expire"`
	Time       int64  `json:"time"`
	TLSSig     string `json:"tls_sig"`
	V11        string `json:"usersig_v1_1_layout"`
	V14        string `json:"usersig_v1_4_layout"`
	ValidUntil int64  `json:"valid_until"`
}

// Vectors returns the UserSig test vectors; a test fails without them.
func Vectors(tb testing.TB) []Vector {
	tb.Helper()
	var f struct {
		Vectors []Vector `json:"vectors"`
	}
	if err := json.Unmarshal(vectorsJSON, &f); err != nil {
		tb.Fatalf("usersig vectors: %v", err)
	}
	if len(f.Vectors) == 0 {
		tb.Fatal("no usersig vectors")
	}
	return f.Vectors
}
