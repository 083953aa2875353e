// Package client is a SCIM 2.0 client (RFC 7643, RFC 7644): authentication
// by bearer token, OAuth 2.0 client credentials (tokens fetched and renewed
// automatically) or HTTP Basic; discovery; lists walked page by page with
// cursors (RFC 9865) where the server advertises them and startIndex
// otherwise, each resource decoded and handed over as it arrives so memory
// does not grow with the result; get, create, replace, patch, delete; Bulk;
// retries with backoff on 429 and 5xx, honouring Retry-After.
//
// export, fulfill, verify and the load generator are built on it. A Client
// is safe for concurrent use and keeps connections alive between requests.
package client
