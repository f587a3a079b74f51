package api

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/sigv4"
)

// body is the JSON of an error response.
func (e *wireError) body() []byte {
	if e.lowerMessage {
		b, _ := json.Marshal(struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}{e.Type, e.Message})
		return b
	}
	b, _ := json.Marshal(e)
	return b
}

// wireError is an error response: an AWS error shape with its members.
type wireError struct {
	status       int
	lowerMessage bool   // the common errors say "message", modeled ones "Message"
	Type         string `json:"__type"`
	// Message is named "Message" as the model names it; AWS SDKs read
	// either case.
	Message              string `json:"Message"`
	CreatorRequestID     string `json:"CreatorRequestId,omitempty"`
	NamespaceID          string `json:"NamespaceId,omitempty"`
	ServiceID            string `json:"ServiceId,omitempty"`
	ServiceARN           string `json:"ServiceArn,omitempty"`
	DuplicateOperationID string `json:"DuplicateOperationId,omitempty"`
	ResourceName         string `json:"ResourceName,omitempty"`
}

// Status codes. AWS answers every modeled Cloud Map error with 400 (the
// Smithy model's 404/409/429 codes are not what the service sends), so
// cairn does too.
const (
	statusClientError = 400
	statusUnavailable = 503
	statusInternal    = 500
)

// fromDomain maps a registry error to its AWS error shape.
func fromDomain(e *registry.Error) *wireError {
	w := &wireError{status: statusClientError, Message: e.Message}
	switch e.Kind {
	case registry.KindInvalid:
		w.Type = "InvalidInput"
	case registry.KindNotFound:
		switch e.Resource {
		case registry.ResNamespace:
			w.Type = "NamespaceNotFound"
		case registry.ResService:
			w.Type = "ServiceNotFound"
		case registry.ResInstance:
			w.Type = "InstanceNotFound"
		case registry.ResOperation:
			w.Type = "OperationNotFound"
		default:
			w.Type = "ResourceNotFoundException"
		}
	case registry.KindAlreadyExists:
		w.CreatorRequestID = e.CreatorRequestID
		if e.Resource == registry.ResNamespace {
			w.Type = "NamespaceAlreadyExists"
			w.NamespaceID = e.NamespaceID
		} else {
			w.Type = "ServiceAlreadyExists"
			w.ServiceID, w.ServiceARN = e.ServiceID, e.ServiceARN
		}
	case registry.KindInUse:
		w.Type = "ResourceInUse"
	case registry.KindDuplicate:
		w.Type = "DuplicateRequest"
		w.DuplicateOperationID = e.DuplicateOperationID
	case registry.KindLimit:
		w.Type = "ResourceLimitExceeded"
	case registry.KindTooManyTags:
		w.Type = "TooManyTagsException"
		w.ResourceName = e.ResourceName
	case registry.KindAttributesLimit:
		w.Type = "ServiceAttributesLimitExceededException"
	case registry.KindCustomHealthNotFound:
		w.Type = "CustomHealthNotFound"
	case registry.KindAccessDenied:
		w.Type = "AccessDeniedException"
	case registry.KindUnavailable:
		w.status, w.Type = statusUnavailable, "ServiceUnavailable"
	default:
		w.status, w.Type = statusInternal, "InternalFailure"
	}
	return w
}

// authError maps a refused signature to its AWS error: the common errors
// of AWS's JSON services, with HTTP 400 and a lower-case "message" member
// as those services send them.
func authError(err error) *wireError {
	var se *sigv4.Error
	if errors.As(err, &se) {
		return &wireError{status: statusClientError, Type: se.Code, Message: se.Message, lowerMessage: true}
	}
	return &wireError{status: statusInternal, Type: "InternalFailure", Message: err.Error()}
}

func serialization(msg string) *wireError {
	return &wireError{status: statusClientError, Type: "SerializationException", Message: msg}
}

// authReason names why SigV4 verification refused a request, as an
// observer counts it: one of AuthReasons.
func authReason(err error) string {
	var se *sigv4.Error
	if !errors.As(err, &se) {
		return AuthOther
	}
	switch se.Code {
	case sigv4.CodeMissingToken:
		return AuthMissing
	case sigv4.CodeIncomplete:
		return AuthIncomplete
	case sigv4.CodeUnrecognizedClient:
		return AuthUnrecognized
	case sigv4.CodeInvalidSignature:
		if strings.HasPrefix(se.Message, "Signature expired") || strings.HasPrefix(se.Message, "Signature not yet current") {
			return AuthExpired
		}
		return AuthMismatch
	}
	return AuthOther
}
