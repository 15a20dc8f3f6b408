// The grammY peer of the side-by-side bench: /ping answers "pong", /echo
// repeats its text, like jarvis's hello plugin. Plain bot.start() long
// polling with the defaults, as a new user would write it.
// Usage: node grammy_bot.js TOKEN API_ROOT
const { Bot } = require("grammy");

const [token, apiRoot] = process.argv.slice(2);
const bot = new Bot(token, { client: { apiRoot } });
bot.command("ping", (ctx) => ctx.reply("pong"));
bot.command("echo", (ctx) => ctx.reply(ctx.match ? ctx.match : "usage: /echo <text>"));
bot.catch((error) => console.error("grammy bot: " + error.message));
process.once("SIGTERM", () => bot.stop());
process.once("SIGINT", () => bot.stop());
bot.start();
