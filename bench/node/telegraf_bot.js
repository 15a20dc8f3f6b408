// The Telegraf peer of the side-by-side bench: /ping answers "pong", /echo
// repeats its text, like jarvis's hello plugin. Plain bot.launch() long
// polling with the defaults, as a new user would write it.
// Usage: node telegraf_bot.js TOKEN API_ROOT
const { Telegraf } = require("telegraf");

const [token, apiRoot] = process.argv.slice(2);
const bot = new Telegraf(token, { telegram: { apiRoot } });
bot.command("ping", (ctx) => ctx.reply("pong"));
bot.command("echo", (ctx) => {
  const text = ctx.message.text.replace(/^\/echo(@\w+)?\s*/, "");
  return ctx.reply(text ? text : "usage: /echo <text>");
});
bot.catch((error) => console.error("telegraf bot: " + error.message));
process.once("SIGTERM", () => bot.stop("SIGTERM"));
process.once("SIGINT", () => bot.stop("SIGINT"));
bot.launch();
