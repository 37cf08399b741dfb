"""Bearer access tokens: issuing, hashing and resolving a request's viewer."""
