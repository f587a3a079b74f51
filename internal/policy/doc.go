// Package policy parses IAM identity-based policy documents and evaluates
// requests against them as AWS documents it ("Policy evaluation logic" in
// the IAM User Guide), for the actions, resource types and condition keys
// that the Service Authorization Reference lists for AWS Cloud Map
// ("Actions, resources, and condition keys for AWS Cloud Map").
//
// # Basics
//
// Parse reads one policy document or a JSON list of them and compiles it:
// actions become a bit set over Cloud Map's actions, Resource and
// condition patterns become matchers, condition values are parsed for
// their operator (numbers, dates, CIDR blocks) once, at load time. A
// malformed document is refused with its file name, the line at fault and
// what is wrong.
//
// Evaluate decides one request (an action, one resource ARN or "*", and
// the request context): an explicit Deny in any statement wins, else an
// Allow grants, else the request is denied by default. The Decision names
// the statement that decided it.
//
// # Caveats
//
// Only identity-based policies exist here: no resource-based policies,
// permissions boundaries, session policies, SCPs, groups or roles. A
// statement may not carry Principal or NotPrincipal, as IAM refuses them
// in identity-based policies. Besides Cloud Map's actions, the Route 53
// reads cairn serves (route53:GetHostedZone, ListResourceRecordSets, …;
// see Route53Actions) are evaluated on Route 53's ARNs. Actions of other
// services, and Route 53's writes, are accepted, as AWS's managed
// policies for Cloud Map name them, and never match a request.
package policy
