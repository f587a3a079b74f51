// Package api is cairn's AWS JSON 1.1 edge: it accepts `POST /` requests
// whose X-Amz-Target names a Cloud Map operation, decodes the body into the
// operation's input shape, calls the registry, and writes the output shape
// or an AWS-style error.
//
// Requests are routed by X-Amz-Target alone, whatever their Host header,
// so the "data-" host prefix that SDKs put before DiscoverInstances calls
// changes nothing here.
//
// Errors are written as AWS's JSON services write them: HTTP 400, the
// error shape's name in the body's "__type" and in the x-amzn-ErrorType
// header, a "Message", and the shape's extra members. Every domain error
// kind maps to one shape in errors.go; nothing else turns errors into
// responses.
package api
