// Start the telegram-test-api emulator (4.2.1) patched to satisfy python-telegram-bot 22.
// Usage: node launch.js <port>   — prints "ready <port>" when listening on 127.0.0.1.
// Patches (see /work/shared/design/TESTING.md): getMe with is_bot, message dates in seconds,
// no-op answers for methods it lacks, edits returning true, callback queries keeping
// chat_instance, webhooks carrying the secret token and retried on failure (as Telegram does)
// instead of crashing the process, getUpdates honouring `offset` as Telegram does. Test control: POST /control/flood {count, retry_after}
// makes the next `count` sendMessage calls fail with 429 retry_after.
"use strict";
const routesModule = require("telegram-test-api/lib/routes/index");
const { TelegramServer } = require("telegram-test-api/lib/telegramServer");
const axios = require("axios");

const port = Number(process.argv[2] || 9000);
const flood = { count: 0, retryAfter: 1 };
const sendLog = []; // [{chat_id, at}] of accepted sendMessage calls, for rate assertions

function extraRoutes(app, server) {
  const ok = (res, result) => res.json({ ok: true, result });
  app.all("/bot:token/getMe", (_req, res) => ok(res, {
    id: 666, is_bot: true, first_name: "枫桥助手", username: "FengqiaoTestBot",
    can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false,
  }));
  app.post("/control/flood", (req, res) => {
    flood.count = Number(req.body.count || 0);
    flood.retryAfter = Number(req.body.retry_after || 1);
    ok(res, true);
  });
  app.post("/control/sendLog", (_req, res) => ok(res, sendLog));
  app.all("/bot:token/sendMessage", (req, res) => {
    if (flood.count > 0) {
      flood.count -= 1;
      res.status(429).json({ ok: false, error_code: 429, description: "Too Many Requests: retry after " + flood.retryAfter,
        parameters: { retry_after: flood.retryAfter } });
      return;
    }
    const result = server.addBotMessage(req.body, req.params.token);
    result.date = Math.floor(result.date / 1000);
    sendLog.push({ chat_id: String(req.body.chat_id), at: Date.now() / 1000 });
    ok(res, result);
  });
  app.all("/bot:token/editMessageText", (req, res) => { server.editMessageText(req.body); ok(res, true); });
  app.all("/bot:token/editMessageReplyMarkup", (req, res) => { server.editMessageReplyMarkup(req.body); ok(res, true); });
  app.all("/bot:token/deleteWebhook", (req, res) => { server.deleteWebhook(req.params.token); ok(res, true); });
  app.all("/bot:token/setWebhook", (req, res) => {
    const hook = req.body && req.body.url ? req.body : req.query;
    server.setWebhook(hook, req.params.token);
    ok(res, true);
  });
  app.all("/bot:token/getWebhookInfo", (req, res) => {
    const hook = server.webhooks[req.params.token];
    ok(res, { url: hook ? hook.url : "", has_custom_certificate: false, pending_update_count: 0 });
  });
  // Like Telegram: an update stays pending until a getUpdates call confirms it with a higher
  // offset (the stock emulator drops it once read, so a poller killed before storing an update
  // would lose it there while Telegram would deliver it again).
  app.all("/bot:token/getUpdates", (req, res) => {
    const args = Object.assign({}, req.query, req.body || {});
    const offset = Number(args.offset || 0);
    const token = req.params.token;
    if (offset > 0) {
      server.storage.userMessages = server.storage.userMessages.filter((u) => u.botToken !== token || u.updateId >= offset);
    }
    const pending = server.storage.userMessages.filter((u) => u.botToken === token).sort((a, b) => a.updateId - b.updateId);
    ok(res, pending.map((u) => TelegramServer.formatUpdate(u)));
  });
  for (const method of ["setMyCommands", "sendChatAction", "deleteMyCommands", "answerCallbackQuery", "close", "logOut"]) {
    app.all("/bot:token/" + method, (_req, res) => ok(res, true));
  }
}
routesModule.routes.unshift(extraRoutes);

const stockFormatUpdate = TelegramServer.formatUpdate;

class PatchedServer extends TelegramServer {
  static formatUpdate(update) {
    const formatted = stockFormatUpdate(update);
    if ("callbackQuery" in update) {
      formatted.callback_query.chat_instance = String(update.callbackQuery.chat_instance || "1");
    }
    return formatted;
  }

  async addUserUpdate(update) {
    if (!update.botToken) throw new Error("botToken missing");
    const hook = this.webhooks[update.botToken];
    if (!hook) {
      this.storage.userMessages.push(update);
      this.updateId++;
      return;
    }
    const body = PatchedServer.formatUpdate(update);
    this.updateId++;
    const headers = hook.secret_token ? { "X-Telegram-Bot-Api-Secret-Token": hook.secret_token } : {};
    // Like Telegram: retry a failed delivery (non-2xx or no answer) for a while.
    for (let attempt = 0; attempt < 60; attempt++) {
      try {
        const resp = await axios({ url: hook.url, method: "POST", data: body, headers, validateStatus: () => true, timeout: 10000 });
        if (resp.status >= 200 && resp.status < 300) return;
      } catch (e) { /* connection refused: the bot is restarting */ }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
// Instance methods call TelegramServer.formatUpdate statically: point them at the patched one.
TelegramServer.formatUpdate = PatchedServer.formatUpdate;

process.on("unhandledRejection", (e) => { console.error("unhandled rejection:", e && e.message); });
const server = new PatchedServer({ port, host: "127.0.0.1", storeTimeout: 120 });
server.start().then(() => { console.log("ready " + port); });
process.on("SIGTERM", () => { server.stop().finally(() => process.exit(0)); });
