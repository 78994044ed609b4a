// The session iframe keycloak-js embeds (checkLoginIframe). The page posts
// "<client_id> <session id>"; the answer is "unchanged" when this browser's
// session is still that one, "changed" when it ended or is another, and
// "error" when the page's origin is not a web origin of that client (asked
// once of the server, at init) or the session cookie cannot be read.
// The session-status cookie (KEYCLOAK_SESSION) holds base64url(SHA-256(session id)).
"use strict";
(function () {
  var verified = null;
  var asked = false;

  function hasStorageAccess() {
    if (!("hasStorageAccess" in document)) {
      return Promise.resolve(true);
    }
    return document.hasStorageAccess().then(function (granted) {
      if (granted) {
        return true;
      }
      return document.requestStorageAccess().then(
        function () { return true; },
        function () { return false; }
      );
    });
  }

  function sessionCookie() {
    var parts = document.cookie.split(";");
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (eq < 0) {
        continue;
      }
      if (parts[i].slice(0, eq).trim() === "KEYCLOAK_SESSION") {
        var value = parts[i].slice(eq + 1).trim();
        if (value.length > 1 && value[0] === '"' && value[value.length - 1] === '"') {
          value = value.slice(1, -1);
        }
        return value;
      }
    }
    return null;
  }

  async function digest(text) {
    var bytes = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))
    );
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function status(clientId, origin, sessionId) {
    if (!(await hasStorageAccess())) {
      return "error";
    }
    if (verified === null) {
      // One question to the server per iframe: a page cannot make it a probe.
      if (asked) {
        return "error";
      }
      asked = true;
      var url = new URL(location.origin + location.pathname + "/init");
      url.searchParams.set("client_id", clientId);
      url.searchParams.set("origin", origin);
      var response = await fetch(url.toString(), { credentials: "same-origin" });
      if (!response.ok) {
        return "error";
      }
      verified = { clientId: clientId, origin: origin };
    }
    if (clientId !== verified.clientId || origin !== verified.origin) {
      return "error";
    }
    var cookie = sessionCookie();
    if (!cookie) {
      return sessionId !== "" ? "changed" : "unchanged";
    }
    if (sessionId === "") {
      return "changed";
    }
    return (await digest(sessionId)) === cookie ? "unchanged" : "changed";
  }

  window.addEventListener("message", async function (event) {
    if (typeof event.data !== "string" || !event.source) {
      return;
    }
    var parts = event.data.split(" ");
    if (parts.length !== 2) {
      return;
    }
    var answer;
    try {
      answer = await status(parts[0], event.origin, parts[1]);
    } catch (e) {
      answer = "error";
    }
    event.source.postMessage(answer, event.origin);
  });
})();
