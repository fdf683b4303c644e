package tim

import "sync/atomic"

// CountSigns makes c count the UserSigs it mints, for the external tests of
// re-signing; it is compiled into the tests only. Call it before c's first
// call.
func CountSigns(c *Client) func() int {
	var n atomic.Int32
	sign := c.signer.sign
	c.signer.sign = func(app uint64, key, identifier string, expire int) (string, error) {
		n.Add(1)
		return sign(app, key, identifier, expire)
	}
	return func() int { return int(n.Load()) }
}
