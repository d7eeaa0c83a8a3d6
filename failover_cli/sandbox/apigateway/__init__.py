"""API Gateway: REST API calls moto gets wrong, execute-api URLs, custom domains.

Fills these moto gaps: execute-api requests (execute_api, routes,
proxy_event) run a deployed stage's Lambda proxy integration, calling the
function through the sandbox's own Lambda API over loopback (core
`loopback`); custom domain names and base path mappings as AWS validates them
(domains); REST API calls moto answers wrongly (gaps); requests to a custom
domain answered by the region Route 53 would pick now (custom_domains).

Deliberate imports from other services (each is what AWS itself couples):
- domains -> acm.validation.issue_validated: a domain name needs an ISSUED
  certificate, so the certificate states are brought up to date first;
- custom_domains -> route53.records.resolve/zones_for: which region answers a
  custom domain is a DNS question;
- execute_api -> lambda_.permissions.statements_for: whether API Gateway may
  invoke a function (or the version or alias its integration names) is that
  function's resource-based policy, which Lambda keeps per qualified ARN.
"""
