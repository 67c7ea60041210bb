// Parley's chat widget. A store puts it on its pages with one tag:
//
//   <script src="https://chat.example.com/widget.js" data-token="…" async></script>
//
// It finds Parley's address from its own URL, defines window.Parley at once
// (calls made before the widget has loaded wait for it), and loads the
// widget's modules from the same server (assets/widget/). See docs/widget.md.
(function () {
  "use strict";
  if (window.Parley && window.Parley.version) return; // one widget per page
  var script = document.currentScript;
  if (!script || !script.src) {
    console.error("Parley: load widget.js with <script src=…>");
    return;
  }
  var queue = [];
  var api = (window.Parley = { version: 1 });
  ["open", "close", "toggle", "identify", "on", "off"].forEach(function (method) {
    api[method] = function () {
      queue.push([method, Array.prototype.slice.call(arguments)]);
      return api;
    };
  });
  api.isOpen = function () {
    return false;
  };
  var data = script.dataset;
  var config = {
    base: new URL(".", script.src).href,
    token: data.token || null,
    accent: data.accent || "",
    title: data.title || "",
  };
  import(new URL("assets/widget/main.js", config.base).href)
    .then(function (widget) {
      widget.boot(config, api, queue);
    })
    .catch(function (err) {
      console.error("Parley: the chat widget could not load", err);
    });
})();
