// 枫桥助手 工作台: print button, canned replies, and the live conversation panel.
"use strict";

function $(id) { return document.getElementById(id); }

function csrf() { return document.body.dataset.csrf || ""; }

function post(url) {
  return fetch(url, { method: "POST", headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" });
}

function addLine(log, who, text) {
  const line = document.createElement("div");
  line.className = "msg from-" + who;
  const label = { citizen: "群众", bot: "助手", agent: "工作人员", system: "系统" }[who] || who;
  line.textContent = label + "：" + text; // text, never HTML
  log.appendChild(line);
  log.scrollTop = log.scrollHeight;
}

function setOwner(isMine, owner) {
  const take = $("takeover"), back = $("handback"), form = $("reply-form"), state = $("live-state");
  if (take) take.hidden = !!isMine;
  if (back) back.hidden = !isMine;
  if (form) form.hidden = !isMine;
  if (state) state.textContent = isMine ? "您已接管对话，助手暂停回复。" : (owner ? "对话由 " + owner + " 接管中。" : "助手正在应答，可随时接管。");
}

function startLive() {
  const panel = $("live");
  if (!panel) return;
  const number = document.body.dataset.case;
  const base = document.body.dataset.liveBase || "/console/cases/" + encodeURIComponent(number);
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + base + "/live");
  const log = $("live-log");
  ws.onopen = () => { panel.dataset.ready = "1"; };
  ws.onmessage = (ev) => {
    const data = JSON.parse(ev.data);
    if (data.type === "message") addLine(log, data.from, data.text);
    else if (data.type === "owner") setOwner(data.mine, data.owner);
    else if (data.type === "crisis") { addLine(log, "system", "【危机】当事人可能处于危险中，已自动发送求助电话 " + (data.numbers || []).join("、") + "，请立即处理。"); beep(); pollAlerts(); }
    else if (data.type === "unavailable") { $("live-state").textContent = data.text; panel.dataset.ready = "0"; }
  };
  ws.onclose = () => { if (panel.dataset.ready === "1") $("live-state").textContent = "实时连接已断开，请刷新页面。"; };
  const take = $("takeover"), back = $("handback"), form = $("reply-form");
  if (take) take.addEventListener("click", () => post(base + "/takeover"));
  if (back) back.addEventListener("click", () => post(base + "/handback"));
  if (form) form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const box = $("reply-text");
    const text = box.value.trim();
    if (!text) return;
    fetch(base + "/reply", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), "Content-Type": "application/json" },
      body: JSON.stringify({ text: text }),
    }).then((r) => { if (r.ok) box.value = ""; else $("live-state").textContent = "发送失败，请重试。"; });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const printButton = $("print");
  if (printButton) printButton.addEventListener("click", () => window.print());
  document.querySelectorAll("button.canned").forEach((b) => {
    b.addEventListener("click", () => {
      const target = $("reply-text") && !$("reply-form").hidden ? $("reply-text") : $("note-body");
      if (target) { target.value = b.dataset.text; target.focus(); }
    });
  });
  if (document.body.dataset.case || document.body.dataset.liveBase) startLive();
  if ($("crisis-banner")) { pollAlerts(); setInterval(pollAlerts, 5000); }
});

// Crisis alerts: a banner and a sound on every console page, polled every five seconds.
let audio = null;
const seenAlerts = new Set(JSON.parse(sessionStorage.getItem("fq-seen-alerts") || "[]"));

function beep() {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    [0, 0.35, 0.7].forEach((t) => {
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.2;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(audio.currentTime + t); osc.stop(audio.currentTime + t + 0.2);
    });
  } catch (e) { /* no sound device: the banner still shows */ }
}

function pollAlerts() {
  fetch("/console/alerts.json", { credentials: "same-origin", cache: "no-store" })
    .then((r) => (r.ok ? r.json() : null))
    .then((data) => {
      if (!data) return;
      const banner = $("crisis-banner"), count = $("alert-count");
      if (count) { count.hidden = !data.open; count.textContent = String(data.open); }
      if (!banner) return;
      if (!data.open) { banner.hidden = true; banner.textContent = ""; return; }
      const a = data.alerts[0];
      banner.textContent = "";
      const link = document.createElement("a");
      link.href = a.url;
      link.id = "crisis-banner-link";
      link.textContent = "【危机预警】" + a.kind_label + " · 地点：" + a.place + " · " + a.created_at +
        (data.open > 1 ? "（共 " + data.open + " 条待确认）" : "") + " — 点击立即处理";
      banner.appendChild(link);
      banner.hidden = false;
      const fresh = data.alerts.filter((x) => !seenAlerts.has(x.id));
      if (fresh.length) {
        fresh.forEach((x) => seenAlerts.add(x.id));
        sessionStorage.setItem("fq-seen-alerts", JSON.stringify([...seenAlerts]));
        beep();
      }
    })
    .catch(() => {});
}
