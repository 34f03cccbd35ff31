package portaltest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// This file is the fake's own model of POST /portal/generate_link, written
// from the API's published contract: the OpenAPI spec's GenerateLinkDto and
// the answers recorded from the real API. It shares no code with package
// portal's validation, so that a test running the client against the fake
// can catch the two disagreeing.

// intents are the values of the spec's intent enum, with the heading and
// summary the portal page shows for each.
var intents = map[string][2]string{
	"sso":                 {"Single Sign-On", "Connect your identity provider so that your team signs in with SSO."},
	"dsync":               {"Directory Sync", "Connect your directory to provision and deprovision users automatically."},
	"audit_logs":          {"Audit Logs", "View and export the audit log events of your organization."},
	"log_streams":         {"Log Streams", "Stream audit log events to your SIEM."},
	"domain_verification": {"Domain Verification", "Verify the domains your organization owns."},
	"certificate_renewal": {"Certificate Renewal", "Renew the SAML signing certificate of your SSO connection."},
	"bring_your_own_key":  {"Bring Your Own Key", "Encrypt your organization's data with a key you control."},
}

const intentValues = "sso, dsync, audit_logs, log_streams, domain_verification, certificate_renewal, bring_your_own_key"

const (
	maxContactEmails = 20        // the spec's maxItems
	maxRequestBody   = 100 << 10 // what the API's JSON body parser takes
)

// linkRequest is a request body the API accepts.
type linkRequest struct {
	Organization    string
	Intent          string
	ReturnURL       string
	SuccessURL      string
	ITContactEmails []string
}

// fieldError is one entry of a 422 answer's errors.
type fieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// parseRequest reads a request body as the API does: organization required,
// every other field optional (null included, as a recorded request sent),
// and admin_emails, the older name of it_contact_emails, still understood.
// It returns the request, or the answer that refuses it: 400 for a body
// that is not a JSON object, 422 listing every field that breaks the spec.
func parseRequest(body []byte) (linkRequest, *answer) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return linkRequest{}, messageAnswer(http.StatusBadRequest, "The request body must be a JSON object.")
	}
	var problems []fieldError
	refuse := func(field, code, message string) {
		if p := (fieldError{Field: field, Code: code, Message: message}); !slices.Contains(problems, p) {
			problems = append(problems, p)
		}
	}
	text := func(field string) (string, bool) {
		raw, ok := members[field]
		if !ok || string(raw) == "null" {
			return "", false
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			refuse(field, field+"_string_required", field+" must be a string")
		}
		return s, true
	}
	var r linkRequest
	var present bool
	if r.Organization, present = text("organization"); !present {
		refuse("organization", "organization_string_required", "organization must be a string")
	}
	if r.Intent, present = text("intent"); present {
		if _, known := intents[r.Intent]; !known {
			refuse("intent", "intent_invalid", "intent must be one of the following values: "+intentValues)
		}
	}
	r.ReturnURL, _ = text("return_url")
	r.SuccessURL, _ = text("success_url")
	emailsField := "it_contact_emails"
	raw, ok := members[emailsField]
	if !ok || string(raw) == "null" {
		emailsField, raw = "admin_emails", members["admin_emails"]
	}
	if len(raw) > 0 && string(raw) != "null" {
		if json.Unmarshal(raw, &r.ITContactEmails) != nil {
			refuse(emailsField, emailsField+"_array_required", emailsField+" must be an array of strings")
		} else if len(r.ITContactEmails) > maxContactEmails {
			refuse(emailsField, emailsField+"_too_many", emailsField+" must contain no more than 20 elements")
		}
		for _, e := range r.ITContactEmails {
			if !isEmail(e) {
				refuse(emailsField, "email_invalid", "each value in "+emailsField+" must be an email")
				break
			}
		}
	}
	if problems != nil {
		return r, jsonAnswer(http.StatusUnprocessableEntity, struct {
			Code    string       `json:"code"`
			Message string       `json:"message"`
			Errors  []fieldError `json:"errors"`
		}{"invalid_request_parameters", "Validation failed", problems})
	}
	return r, nil
}

// wellFormedOrganization reports whether id looks like an organization ID:
// "org_" and then ASCII letters and digits (a ULID, for a real one).
func wellFormedOrganization(id string) bool {
	rest, ok := strings.CutPrefix(id, "org_")
	return ok && rest != "" && strings.Trim(rest, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
}

// isEmail reads s as JSON Schema's "email" format does, RFC 5321's Mailbox,
// with non-ASCII text allowed as in RFC 6531: a local part that is a
// dot-atom or a quoted string, "@", and a domain of dot-separated labels of
// letters, digits and inner hyphens, or a bracketed address literal (of
// printable ASCII, but for "[]\@").
func isEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at < 0 || !utf8.ValidString(s) { // an empty local part fails below, so at <= 0 would do too
		return false
	}
	local, domain := s[:at], s[at+1:]
	if len(local) >= 2 && local[0] == '"' && local[len(local)-1] == '"' {
		if !quotedText(local[1 : len(local)-1]) {
			return false
		}
	} else if !dotSeparated(local, func(r rune) bool {
		return r >= utf8.RuneSelf || asciiAlnum(r) || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
	}) {
		return false
	}
	if literal, ok := strings.CutPrefix(domain, "["); ok {
		literal, ok = strings.CutSuffix(literal, "]")
		return ok && literal != "" && !strings.ContainsFunc(literal, func(r rune) bool {
			return r <= ' ' || r > '~' || strings.ContainsRune("[]\\@", r)
		})
	}
	if !dotSeparated(domain, func(r rune) bool { return r >= utf8.RuneSelf || asciiAlnum(r) || r == '-' }) {
		return false
	}
	for _, label := range strings.Split(domain, ".") {
		if label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
	}
	return true
}

// dotSeparated reports whether s is non-empty parts joined by single dots,
// every rune of which satisfies ok.
func dotSeparated(s string, ok func(rune) bool) bool {
	part := 0
	for _, r := range s {
		switch {
		case r == '.' && part > 0:
			part = 0
		case r != '.' && ok(r):
			part++
		default:
			return false
		}
	}
	return part > 0
}

// quotedText reports whether s may stand between the quotes of a quoted
// local part: text without control characters, '"' and '\' escaped by '\'.
func quotedText(s string) bool {
	escaped := false
	for _, r := range s {
		switch {
		case r < ' ' || r == 0x7f:
			return false
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			return false
		}
	}
	return !escaped
}

func asciiAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}
