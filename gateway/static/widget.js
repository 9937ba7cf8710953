// 枫桥助手 embeddable widget: one script tag on any page of an allowed origin
//   <script src="https://ASSISTANT-HOST/static/widget.js" async></script>
// adds a launcher button that opens the chat in a frame served by the assistant itself
// (/embed, frameable only by origins listed in WEB_ALLOWED_ORIGINS).
(function () {
  "use strict";
  if (window.fqWidget) return;
  var script = document.currentScript;
  var base = new URL(script ? script.src : "/static/widget.js", location.href).origin;
  var open = false;

  var button = document.createElement("button");
  button.type = "button";
  button.id = "fq-widget-launcher";
  button.textContent = "枫桥助手";
  button.setAttribute("aria-label", "打开枫桥助手，在线反映问题");
  button.style.cssText = "position:fixed;right:16px;bottom:16px;z-index:2147483646;border:0;border-radius:24px;" +
    "padding:12px 18px;background:#b5382f;color:#fff;font-size:16px;box-shadow:0 2px 8px rgba(0,0,0,.25);cursor:pointer";

  var frame = document.createElement("iframe");
  frame.id = "fq-widget-frame";
  frame.title = "枫桥助手";
  frame.src = base + "/embed";
  frame.style.cssText = "position:fixed;right:16px;bottom:72px;z-index:2147483647;width:min(390px,calc(100vw - 32px));" +
    "height:min(640px,calc(100vh - 96px));border:0;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.25);display:none;background:#fff";

  button.addEventListener("click", function () {
    open = !open;
    frame.style.display = open ? "block" : "none";
    button.textContent = open ? "收起" : "枫桥助手";
  });
  document.body.appendChild(frame);
  document.body.appendChild(button);
  window.fqWidget = { frame: frame, launcher: button };
})();
