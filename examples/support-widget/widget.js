// A support chat widget over `botkit serve`: streams the answer (OpenAI-compatible SSE), shows its
// citations and, where its key allows, sends thumbs feedback by response id. Plain JS, no build step.
//
// Its key is a public widget key (`botkit keys create --scope widget --origin ...`: chat only, from the
// page's origin, rate-limited per visitor), never a secret key and never in the page URL: from the
// widget element's data-key attribute, else from the server's /widget/config for this page's origin.
(function () {
  const widget = document.getElementById("botkit-widget");
  const log = document.getElementById("bk-log");
  const form = document.getElementById("bk-form");
  const input = document.getElementById("bk-input");
  const server = (widget.dataset.server || location.origin).replace(/\/$/, "");
  const config = { key: widget.dataset.key || "", feedback: widget.dataset.feedback === "true" };
  let sessionId = null;

  const api = (path) => server + path;
  const headers = () => ({ "Content-Type": "application/json", "Authorization": "Bearer " + config.key });

  async function configure() {
    if (config.key) return;
    const response = await fetch(api("/widget/config"));
    if (!response.ok) throw new Error(await errorText(response));
    Object.assign(config, await response.json());
  }
  const ready = configure();
  ready.catch(() => {});  // reported on the first question, in the chat

  function add(role, text) {
    const li = document.createElement("li");
    li.className = role;
    const body = document.createElement("div");
    body.className = "text";
    body.textContent = text;
    li.appendChild(body);
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
    return li;
  }

  function showCitations(li, citations) {
    if (!citations.length) return;
    const list = document.createElement("ol");
    list.className = "citations";
    list.setAttribute("aria-label", "Sources");
    for (const c of citations) {
      const item = document.createElement("li");
      item.value = c.n;
      item.textContent = `${c.title || c.source} — ${c.source.split("/").pop()}`;
      item.title = c.text;
      list.appendChild(item);
    }
    li.appendChild(list);
  }

  function showFeedback(li, responseId) {
    const bar = document.createElement("div");
    bar.className = "feedback";
    for (const [label, rating] of [["👍", 1], ["👎", -1]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.setAttribute("aria-label", rating > 0 ? "Helpful" : "Not helpful");
      button.onclick = async () => {
        const reason = rating < 0 ? (window.prompt("What was wrong? (optional)") || "") : "";
        const response = await fetch(api("/v1/feedback"), {
          method: "POST", headers: headers(),
          body: JSON.stringify({ response_id: responseId, rating, reason }),
        });
        bar.textContent = response.ok ? "Thanks for your feedback." : "Feedback failed: " + (await errorText(response));
      };
      bar.appendChild(button);
    }
    li.appendChild(bar);
  }

  async function errorText(response) {
    try { return (await response.json()).error.message; } catch (e) { return response.statusText; }
  }

  async function ask(question) {
    await ready;
    add("user", question);
    const li = add("bot", "");
    const text = li.querySelector(".text");
    const body = { model: "botkit", stream: true, messages: [{ role: "user", content: question }] };
    if (sessionId) body.session_id = sessionId;
    const response = await fetch(api("/v1/chat/completions"), { method: "POST", headers: headers(), body: JSON.stringify(body) });
    if (!response.ok) {
      text.textContent = "Error: " + (await errorText(response));
      text.className = "text error";
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "", answer = "", final = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
        const chunk = JSON.parse(event.slice(6));
        if (chunk.error) { text.textContent = "Error: " + chunk.error.message; text.className = "text error"; return; }
        const delta = (chunk.choices[0] || {}).delta || {};
        if (delta.content) { answer += delta.content; text.textContent = answer; }  // each piece is a checked sentence
        if (chunk.botkit && chunk.botkit.response_id) final = chunk.botkit;
      }
      log.scrollTop = log.scrollHeight;
    }
    if (!final) return;
    sessionId = final.session_id;
    li.dataset.responseId = final.response_id;
    showCitations(li, final.citations || []);
    if (config.feedback) showFeedback(li, final.response_id);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) return;
    input.value = "";
    ask(question).catch((e) => add("bot error", "Error: " + e.message));
  });
})();
