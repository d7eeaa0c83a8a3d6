"""The watch page at `/_sandbox/`: follow a stack's failover live in a browser.

Not a moto gap but the sandbox's own page: page serves the HTML/JS/CSS in
`static/` and a small JSON API; probe finds the stacks and calls `/hello`
through the custom domain, using only the sandbox's public AWS APIs over
loopback, so it depends on no other subpackage.
"""
