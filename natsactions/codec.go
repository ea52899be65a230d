package natsactions

import "encoding/json"

// A Codec turns payloads and results into bytes for the wire and back.
// Implementations must be safe for concurrent use. A Codec's errors fail
// the invocation that needed them (see "Errors" in the package
// documentation); they never reach a stage.
type Codec interface {
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into the value v points to.
	Unmarshal(data []byte, v any) error
}

// JSON is the default codec: [encoding/json].
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
