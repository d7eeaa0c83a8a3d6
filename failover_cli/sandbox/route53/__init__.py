"""Route 53: health checkers that probe, health as DNS sees it, DNS answers.

Fills these moto gaps: health checks that are really probed from each checker
region (checkers, probe) and their observations in GetHealthCheckStatus
(status); `TestDNSAnswer` (dns_answer) from the records and current health
with the routing policies' rules (dns, records, geography, health); the
`AWS/Route53 HealthCheckStatus` metric in CloudWatch (metrics, written into
moto's CloudWatch backend, not through the cloudwatch subpackage); change-
batch validation (changes), the limits on a health check's settings
(check_limits), CALCULATED checks' rules and updates that keep what they omit
(calculated) and idempotent CreateHealthCheck (references); the authoritative
name servers answer DNS over UDP and TCP from the same records and health
(nameserver, dns_wire), with no AWS API in between. What the
checkers observe goes to the core's `context.health` (health_state.py), which
others read.

The checkers reach execute-api and custom domains over HTTP on loopback, as
Route 53 reaches the internet; they import nothing from apigateway.
"""
