package main

import (
	"fmt"
	"net"

	"github.com/minimart/minimart/internal/platform/config"
)

// listenOps opens the operator listener of MINIMART_OPS_ADDR; nil when it is off. Failing
// to bind is a start-up error naming the variable: two instances on one machine need an
// address each.
func listenOps(cfg config.Config) (net.Listener, error) {
	if cfg.OpsAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.OpsAddr)
	if err != nil {
		return nil, &usageError{fmt.Errorf("MINIMART_OPS_ADDR: cannot listen on %s: %w (give each instance its own address, or off)", cfg.OpsAddr, err)}
	}
	return ln, nil
}
