// Command server runs bench/ceiling on loopback and prints its base URL:
//
//	go run ./bench/ceiling/server --listen 127.0.0.1:0 --total 100000
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/pamscim/pamscim/bench/ceiling"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	total := flag.Int("total", 1, "totalResults claimed by unfiltered collection GETs (exports walk that many)")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
	// The one line a script reads to find the server.
	fmt.Printf("http://%s/scim/v2\n", ln.Addr())
	if err := http.Serve(ln, ceiling.Handler(*total)); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}
