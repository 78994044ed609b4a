// keycloak-js's third-party cookie check, step 1 (in a hidden iframe):
// set two test cookies, then load step 2, which looks for them. Without
// storage access there is nothing to try: report "unsupported" at once.
"use strict";
(async function () {
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
  if (await hasStorageAccess()) {
    document.cookie = "KEYCLOAK_3P_COOKIE_SAMESITE=supported; Max-Age=60; SameSite=None; Secure";
    document.cookie = "KEYCLOAK_3P_COOKIE=supported; Max-Age=60";
    window.location.replace("step2.html");
  } else {
    window.parent.postMessage("unsupported", "*");
  }
})();
