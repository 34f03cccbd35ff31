package portal

import (
	"encoding/json"
	"unicode/utf8"
)

// Response bodies are decoded on every call. The API's answers are small
// objects of plain strings, which a hand-written scanner reads without
// reflection; anything it does not recognise (escapes, numbers, nulls,
// unknown members) goes to encoding/json instead, so both paths accept and
// produce exactly the same results. The fuzz tests hold them to that.

// parseLink returns the "link" member of a success body.
func parseLink(body []byte) (string, bool) {
	if link, ok := parsePlainLink(body); ok {
		return link, true
	}
	var v struct {
		Link *string `json:"link"`
	}
	if json.Unmarshal(body, &v) != nil || v.Link == nil {
		return "", false
	}
	return *v.Link, true
}

// parsePlainLink reads `{"link":"…"}`, with optional white space.
func parsePlainLink(b []byte) (link string, found bool) {
	s := scanner{b: b}
	ok := s.object(func(key []byte) bool {
		if string(key) != "link" {
			return false
		}
		link, found = s.plainString()
		return found
	})
	return link, ok && found && s.atEnd()
}

// decode reads an error body. It reports false for a body that is not a
// JSON object.
func (eb *errorBody) decode(body []byte) bool {
	if eb.decodePlain(body) {
		return true
	}
	*eb = errorBody{}
	if json.Unmarshal(body, eb) == nil {
		return true
	}
	// A member of an unexpected type spoils only itself.
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return false
	}
	var fields []FieldError
	if json.Unmarshal(raw["errors"], &fields) != nil {
		fields = nil
	}
	*eb = errorBody{
		Code:             rawString(raw["code"]),
		Message:          rawString(raw["message"]),
		Error:            rawString(raw["error"]),
		ErrorDescription: rawString(raw["error_description"]),
		Errors:           fields,
	}
	return true
}

// rawString returns v if it is a JSON string, else "".
func rawString(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

// decodePlain reads an error body made only of the known members with
// plain string values (and the errors array of plain objects).
func (eb *errorBody) decodePlain(b []byte) bool {
	s := scanner{b: b}
	ok := s.object(func(key []byte) bool {
		switch string(key) {
		case "code":
			return s.stringInto(&eb.Code)
		case "message":
			return s.stringInto(&eb.Message)
		case "error":
			return s.stringInto(&eb.Error)
		case "error_description":
			return s.stringInto(&eb.ErrorDescription)
		case "errors":
			var ok bool
			eb.Errors, ok = s.fieldErrors()
			return ok
		}
		return false
	})
	return ok && s.atEnd()
}

// fieldErrors reads an array of {"field","code","message"} objects.
func (s *scanner) fieldErrors() ([]FieldError, bool) {
	if !s.consume('[') {
		return nil, false
	}
	out := []FieldError{} // encoding/json makes an empty, non-nil slice of []
	if s.consume(']') {
		return out, true
	}
	for {
		var fe FieldError
		ok := s.object(func(key []byte) bool {
			switch string(key) {
			case "field":
				return s.stringInto(&fe.Field)
			case "code":
				return s.stringInto(&fe.Code)
			case "message":
				return s.stringInto(&fe.Message)
			}
			return false
		})
		if !ok {
			return nil, false
		}
		out = append(out, fe)
		if s.consume(']') {
			return out, true
		}
		if !s.consume(',') {
			return nil, false
		}
	}
}

// scanner walks a JSON text, accepting only what it can read exactly as
// encoding/json would.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, reporting whether c was there.
func (s *scanner) consume(c byte) bool {
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object reads a JSON object, calling member for each key with the scanner
// at the member's value; member reads the value and reports success.
func (s *scanner) object(member func(key []byte) bool) bool {
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	for {
		key, ok := s.plainBytes()
		if !ok || !s.consume(':') || !member(key) {
			return false
		}
		if s.consume('}') {
			return true
		}
		if !s.consume(',') {
			return false
		}
	}
}

func (s *scanner) atEnd() bool {
	s.skipSpace()
	return s.i == len(s.b)
}

// plainBytes reads a string without escapes or control characters and of
// valid UTF-8, which JSON decoding would return byte for byte. The result
// aliases the input.
func (s *scanner) plainBytes() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			raw := s.b[start:s.i]
			s.i++
			return raw, utf8.Valid(raw)
		case c == '\\' || c < ' ':
			return nil, false
		}
	}
	return nil, false
}

func (s *scanner) plainString() (string, bool) {
	raw, ok := s.plainBytes()
	return string(raw), ok
}

func (s *scanner) stringInto(dst *string) bool {
	v, ok := s.plainString()
	if ok {
		*dst = v
	}
	return ok
}
