package jobs_test

import (
	"fmt"

	"faceswap/jobs"
)

// A webhook receiver checks the X-Faceswap-Signature header against the raw
// body with the server's FACESWAP_WEBHOOK_SECRET before trusting it.
func ExampleVerify() {
	secret := []byte("the server's webhook secret")
	body := []byte(`{"request_id":"req_0123456789abcdef01234567","status":"COMPLETED"}`)
	header := jobs.Sign(secret, body) // what the server sends
	fmt.Println(jobs.Verify(secret, body, header))
	fmt.Println(jobs.Verify(secret, append(body, ' '), header))
	fmt.Println(jobs.Verify([]byte("another secret"), body, header))
	// Output:
	// true
	// false
	// false
}
