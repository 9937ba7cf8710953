// 枫桥助手 web chat: one WebSocket, client message ids, resend of unanswered messages
// after a reconnect (the server answers a repeated id without a second turn), and a
// `hello` with the last outbox id seen so replies sent while offline are replayed once.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const typing = document.getElementById("typing");
  const conn = document.getElementById("conn");

  const storageKey = "fq.conversation";
  let conversation = localStorage.getItem(storageKey);
  if (!conversation || !/^[A-Za-z0-9-]{8,64}$/.test(conversation)) {
    conversation = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + "-" + Math.random().toString(16).slice(2));
    localStorage.setItem(storageKey, conversation);
  }
  const pending = new Map(); // client id -> text, until a bot reply for it arrives
  let ws = null;
  let retry = 0;
  let lastSeen = 0; // largest outbox id shown
  let connectedOnce = false;
  let seq = 0;

  function newId() {
    seq += 1;
    return "m" + Date.now().toString(36) + "-" + seq + "-" + Math.random().toString(36).slice(2, 8);
  }

  function bubble(kind, text) {
    const div = document.createElement("div");
    div.className = "msg " + kind;
    div.textContent = text; // always text, never HTML
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  // A card under a message that names one of this conversation's cases (number, status,
  // handling body, due date), fetched from /chat/cases with the conversation's own id.
  const caseNumber = /FQ-\d{4}-\d{6}/g;
  function caseCards(text) {
    const numbers = text.match(caseNumber);
    if (!numbers) return;
    fetch("/chat/cases?conversation=" + encodeURIComponent(conversation), { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : { cases: [] }; })
      .then(function (data) {
        data.cases.filter(function (c) { return numbers.indexOf(c.case_number) >= 0; }).forEach(card);
      })
      .catch(function () { /* the text already says it all */ });
  }

  function card(c) {
    const box = document.createElement("div");
    box.className = "case-card";
    box.dataset.caseNumber = c.case_number;
    [["案件编号", c.case_number], ["状态", c.status], ["承办单位", c.handling_body + (c.tier ? "（" + c.tier + "）" : "")],
     ["办理期限", c.due_date || "依法定期限"], ["类别", c.category || "待分类"]].forEach(function (row) {
      const line = document.createElement("div");
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = row[0];
      const value = document.createElement("span");
      value.textContent = row[1];
      line.appendChild(label);
      line.appendChild(value);
      box.appendChild(line);
    });
    log.appendChild(box);
    log.scrollTop = log.scrollHeight;
  }

  function showButtons(buttons) {
    if (!buttons || !buttons.length) return;
    const row = document.createElement("div");
    row.className = "buttons";
    buttons.forEach(function (b) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.title;
      btn.addEventListener("click", function () {
        row.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
        send(b.payload, b.title);
      });
      row.appendChild(btn);
    });
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
  }

  function transmit(id, text) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: "message", id: id, text: text }));
    }
  }

  function send(text, shown) {
    const id = newId();
    pending.set(id, text);
    bubble("user", shown || text);
    transmit(id, text);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/ws?conversation=" + encodeURIComponent(conversation));
    conn.dataset.state = "connecting";
    conn.textContent = "连接中…";
    ws.addEventListener("open", function () {
      retry = 0;
      conn.dataset.state = "open";
      conn.textContent = "在线";
      if (connectedOnce) ws.send(JSON.stringify({ type: "hello", after: lastSeen }));
      connectedOnce = true;
      pending.forEach(function (text, id) { transmit(id, text); }); // resend what got no answer
    });
    ws.addEventListener("message", function (event) {
      let data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.type === "typing") { typing.hidden = false; return; }
      if (data.type === "ack") return;
      typing.hidden = true;
      if (data.type === "error") { bubble("notice", data.text); return; }
      if (data.type === "bot") {
        if (data.reply_to && data.kind !== "delay") pending.delete(data.reply_to);
        if (typeof data.id === "number") {
          if (data.id <= lastSeen) return; // already shown (replayed after a reconnect)
          lastSeen = data.id;
        }
        if (data.kind === "delay") { bubble("notice", data.text); return; } // stored, answer later
        if (data.text) bubble(data.kind === "agent" ? "bot agent" : "bot", data.text);
        showButtons(data.buttons);
        if (data.text) caseCards(data.text);
      }
    });
    ws.addEventListener("close", function () {
      conn.dataset.state = "closed";
      conn.textContent = "重新连接中…";
      typing.hidden = true;
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * retry);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  window.fqChat = {
    conversation: conversation,
    isOpen: function () { return !!ws && ws.readyState === WebSocket.OPEN; },
    lastSeen: function () { return lastSeen; },
    pending: function () { return pending.size; },
    drop: function () { if (ws) ws.close(); }, // tests: simulate a network drop
  };
  connect();
})();
