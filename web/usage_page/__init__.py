"""The usage page: the seed's "Usage Analytics" page, served at /usage as static files.

HTML, CSS and plain ES modules (no build step, no CDN, no third-party script) that use only
the public GraphQL API (the operations in `static/operations/*.graphql`) and the export
endpoints, with the token the user types kept in the tab's sessionStorage.
"""
