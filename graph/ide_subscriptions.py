"""GraphiQL's subscriptions carry the Headers tab's token.

Strawberry's GraphiQL page opens subscriptions over WebSocket (graphql-ws), whose handshake
cannot carry the Headers tab: the page is given `wsConnectionParams`, read when the socket
connects, that put the tab's `Authorization` (persisted by GraphiQL in localStorage) into
`connection_init`. Should strawberry's page change shape, it is served unchanged (and
subscriptions from GraphiQL are refused 4403) rather than broken.
"""

from __future__ import annotations

import logging

log = logging.getLogger("aize.app")

_FETCHER_OPTIONS = "        subscriptionUrl,\n"
_CONNECTION_PARAMS = """        subscriptionUrl,
        // Aize: the Headers tab's token goes in connection_init (graph/ide_subscriptions.py).
        wsConnectionParams: function () {
          try {
            const headers = JSON.parse(
              localStorage.getItem("graphiql:headers") || parameters.headers || "{}",
            );
            const authorization = headers.Authorization || headers.authorization;
            return authorization ? { authorization: authorization } : {};
          } catch (error) {
            return {};
          }
        },
"""


def with_subscription_token(html: str) -> str:
    """The GraphiQL page with the token passed to subscriptions (unchanged if its fetcher
    options are not where expected)."""
    if html.count(_FETCHER_OPTIONS) != 1:
        log.warning("GraphiQL page not recognised: its subscriptions will carry no token")
        return html
    return html.replace(_FETCHER_OPTIONS, _CONNECTION_PARAMS)
