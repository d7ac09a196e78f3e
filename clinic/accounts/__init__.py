"""Staff accounts and sessions: sign-in with a second factor, lockout, password self-service,
idle sign-out, and the security events all of that records (issue 11, HIPAA 164.312(a), (d))."""
