"""ACM: DNS validation (moto issues every certificate after a fixed wait).

Fills this moto gap: a DNS-validated certificate is ISSUED once its
validation CNAME is published in a hosted zone, and stays pending otherwise.
`validation.issue_validated` is the interface other services call before
they read certificate states (apigateway's domain names do).
"""
