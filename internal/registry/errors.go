package registry

import (
	"errors"
	"fmt"
)

// Kind names a class of domain error. The API edge maps each kind (with the
// Resource it concerns) to one AWS error shape.
type Kind int

// The kinds of error the registry returns.
const (
	// KindInvalid: the input breaks a rule (AWS InvalidInput).
	KindInvalid Kind = iota + 1
	// KindNotFound: Resource does not exist (NamespaceNotFound, …).
	KindNotFound
	// KindAlreadyExists: a namespace or service with that name exists.
	KindAlreadyExists
	// KindInUse: the resource still contains others (ResourceInUse).
	KindInUse
	// KindDuplicate: an operation on the resource is in flight (DuplicateRequest).
	KindDuplicate
	// KindLimit: a quota on resources is reached (ResourceLimitExceeded).
	KindLimit
	// KindTooManyTags: the 50-tag quota would be passed.
	KindTooManyTags
	// KindAttributesLimit: the 30 service-attribute quota would be passed.
	KindAttributesLimit
	// KindCustomHealthNotFound: the service has no custom health check.
	KindCustomHealthNotFound
	// KindUnavailable: the store cannot take writes now; retry later.
	KindUnavailable
	// KindAccessDenied: the caller may see the resource but not do this to
	// it (an account a namespace is shared with, acting as its owner).
	KindAccessDenied
)

// Resource names what a NotFound or AlreadyExists error is about.
type Resource string

// Resources.
const (
	ResNamespace Resource = "namespace"
	ResService   Resource = "service"
	ResInstance  Resource = "instance"
	ResOperation Resource = "operation"
	ResTagged    Resource = "resource" // the target of a tagging call
)

// Error is the registry's one error type. Fields beyond Kind and Message are
// set where the AWS error shape has a member for them.
type Error struct {
	Kind     Kind
	Resource Resource
	Message  string

	CreatorRequestID     string // AlreadyExists
	NamespaceID          string // AlreadyExists (namespace)
	ServiceID            string // AlreadyExists (service)
	ServiceARN           string // AlreadyExists (service)
	DuplicateOperationID string // Duplicate
	ResourceName         string // TooManyTags
}

func (e *Error) Error() string { return e.Message }

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

func invalid(format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Message: fmt.Sprintf(format, args...)}
}

func notFound(r Resource, id string) *Error {
	var msg string
	switch r {
	case ResNamespace:
		msg = fmt.Sprintf("No namespace exists with the specified ID: %s", id)
	case ResService:
		msg = fmt.Sprintf("No service exists with the specified ID: %s", id)
	case ResInstance:
		msg = fmt.Sprintf("No instance exists with the specified ID: %s", id)
	case ResOperation:
		msg = fmt.Sprintf("No operation exists with the specified ID: %s", id)
	default:
		msg = fmt.Sprintf("The resource %s was not found", id)
	}
	return &Error{Kind: KindNotFound, Resource: r, Message: msg}
}

func accessDenied(format string, args ...any) *Error {
	return &Error{Kind: KindAccessDenied, Message: fmt.Sprintf(format, args...)}
}

func duplicate(opID string) *Error {
	return &Error{Kind: KindDuplicate, DuplicateOperationID: opID,
		Message: fmt.Sprintf("The operation is already in progress: operation %s on this resource has not finished", opID)}
}
