// GraphiQL over this server's GraphQL endpoint (the page's data-endpoint). Kept out of the page
// so its CSP can forbid inline scripts.
(function () {
  "use strict";

  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint");

  // Shown on a first visit (GraphiQL keeps the user's own tabs in localStorage after that).
  var firstQuery = [
    "# voltgate's GraphQL API (be.ENERGISED's dialect)",
    "#",
    "# Each request is authorised by the bearer in the",
    "# Headers tab below:",
    '#   {"Authorization": "Bearer <token>"}',
    "# Start a session with your application's",
    "# pre-shared key as the bearer, then use the",
    "# sessionToken instead (it lasts 60 minutes).",
    "# This browser never keeps the headers.",
    "",
    "mutation StartSession {",
    "  initSession(",
    '    username: "demo-user"',
    '    password: "demo-user-password"',
    "  ) {",
    "    sessionToken",
    "    refreshToken",
    "  }",
    "}",
    "",
  ].join("\n");

  // GraphQL over HTTP: a JSON POST of the operation with the editor's headers; no cookies, the
  // API authorises by bearer only.
  async function fetcher(params, options) {
    var headers = Object.assign(
      {
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json, application/json",
      },
      (options && options.headers) || {}
    );
    var response = await fetch(endpoint, {
      method: "POST",
      headers: headers,
      credentials: "omit",
      body: JSON.stringify({
        query: params.query,
        variables: params.variables,
        operationName: params.operationName,
      }),
    });
    var text = await response.text();
    try {
      return JSON.parse(text);
    } catch (error) {
      var status = response.status + " " + response.statusText;
      return { errors: [{ message: status + ": the answer was not JSON" }] };
    }
  }

  // GraphiQL keeps each run's headers in its history (localStorage) whatever
  // shouldPersistHeaders says: keep the history, never the bearer.
  var history = /^graphiql:(queries|favorites)$/;
  var namespace = "graphiql:";

  function withoutHeaders(value) {
    try {
      var store = JSON.parse(value);
      Object.keys(store).forEach(function (name) {
        if (Array.isArray(store[name])) {
          store[name].forEach(function (item) {
            delete item.headers;
          });
        }
      });
      return JSON.stringify(store);
    } catch (error) {
      return value;
    }
  }

  function ownKeys() {
    return Object.keys(window.localStorage).filter(function (key) {
      return key.indexOf(namespace) === 0;
    });
  }

  var storage = {
    getItem: function (key) {
      return window.localStorage.getItem(key);
    },
    setItem: function (key, value) {
      window.localStorage.setItem(key, history.test(key) ? withoutHeaders(value) : value);
    },
    removeItem: function (key) {
      window.localStorage.removeItem(key);
    },
    clear: function () {
      ownKeys().forEach(function (key) {
        window.localStorage.removeItem(key);
      });
    },
    get length() {
      return ownKeys().length;
    },
  };

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      storage: storage,
      defaultQuery: firstQuery,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
    })
  );
})();
