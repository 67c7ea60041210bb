package main

import (
	"net/http"
	"net/http/pprof"
)

// pprofMux serves Go's profiler for operators who opt in with --pprof-addr.
// It lives on its own listener, never on the public one: profiles reveal
// memory contents and cost CPU.
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
