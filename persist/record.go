package persist

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/engine"
)

// errCorrupt is what every decoder of a stored value (record, event, row)
// returns for bytes it cannot read.
var errCorrupt = errors.New("persist: corrupt record")

// Records other than events and inbox rows (snapshots, config, profiles) are JSON after
// a one-byte format version, so a future format can be told apart.
const recordV1 = 1

func encodeRecord(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("persist: encode %T: %w", v, err)
	}
	return append([]byte{recordV1}, b...), nil
}

func decodeRecord(b []byte, v any) error {
	if len(b) == 0 || b[0] != recordV1 {
		return fmt.Errorf("%w: unknown record version", errCorrupt)
	}
	if err := json.Unmarshal(b[1:], v); err != nil {
		return fmt.Errorf("%w: %v", errCorrupt, err)
	}
	return nil
}

// agentRecord stores an Agent with its TokenHash, which engine keeps out of JSON.
type agentRecord struct {
	engine.Agent
	Hash string `json:"token_hash"`
}
