// Package testlark is for tests only: a fake Lark (Feishu) OAuth 2.0 server
// on the loopback interface. It implements the three endpoints Gatehouse
// calls (authorize, the v2 token endpoint, user info), checks the PKCE
// verifier against the S256 challenge, issues single-use codes, and can be
// told to decline, to fail, to answer HTTP 200 with a non-zero code, as
// the real one does, or to be slow.
package testlark
