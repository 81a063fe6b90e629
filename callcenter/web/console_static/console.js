/* Operator console: state switch, live state (SSE), call card, ticket form, knowledge base, wrap-up timer.
   Everything from the server is put on the page as text (textContent), never as markup. */
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("cc-text").textContent);
  const CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const state = { row: null, callId: null, ticket: null, articleId: null, timer: null };

  async function api(method, path, body) {
    const options = { method, credentials: "same-origin", headers: { "X-CSRF-Token": CSRF } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch("/api/v1" + path, options);
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const detail = (data && (data.detail || data.title)) || response.statusText;
      throw new Error(detail);
    }
    return data;
  }

  function say(text, isError) {
    const box = $("message");
    box.textContent = text;
    box.className = isError ? "error" : "ok";
  }

  async function run(action) {
    try {
      await action();
    } catch (error) {
      say(T.error + ": " + error.message, true);
    }
  }

  // -- state ---------------------------------------------------------------------------------------------
  function showState(row) {
    state.row = row;
    const label = $("state");
    label.dataset.state = row.state;
    label.textContent = T["state_" + row.state] || row.state;
    $("state-reason").textContent = row.reason ? "(" + row.reason + ")" : "";
    const wrapping = row.state === "wrap_up";
    $("wrap-up").hidden = !wrapping;
    clearInterval(state.timer);
    if (wrapping && row.since) {
      const tick = () => { $("wrap-up-timer").textContent = String(Math.max(0, Math.round(Date.now() / 1000 - row.since))); };
      tick();
      state.timer = setInterval(tick, 1000);
    }
    $("accept").hidden = row.state !== "reserved";
    if (row.call && row.call !== state.callId) {
      state.callId = row.call;
      loadCard(0);
    }
  }

  function setState(target) {
    const body = { state: target };
    if (target === "break") body.reason = $("break-reason").value;
    return run(async () => showState(await api("POST", "/operators/me/state", body)));
  }

  function listen() {
    const source = new EventSource("/api/v1/operators/me/events");
    source.addEventListener("state", (event) => showState(JSON.parse(event.data)));
  }

  // -- call card -------------------------------------------------------------------------------------------
  async function loadCard(attempt) {
    const data = await api("GET", "/operators/me/call").catch(() => null);
    const card = data && data.card;
    if (!card) return;
    $("no-call").hidden = true;
    $("call-card").hidden = false;
    $("card-caller").textContent = card.caller;
    $("card-caller-name").textContent = card.caller_name;
    $("card-language").textContent = card.language;
    $("card-topic").textContent = card.topic;
    $("card-ivr").textContent = card.ivr_path.join(" → ");
    $("card-queue").textContent = card.queue;
    $("card-waited").textContent = card.waited_seconds === null ? "–" : String(Math.round(card.waited_seconds));
    fillList($("card-history"), card.history.map((t) => "#" + t.id + " " + t.status + " — " + t.subject));
    if (attempt === 0) $("call-title").focus();
    if (card.ticket) {
      showTicket(card.ticket);
      $("repeat-caller").hidden = card.ticket.contact_count < 2;
    } else if (attempt < 60) {
      setTimeout(() => loadCard(attempt + 1), 500);  // the journal has not written the call yet
    }
  }

  function fillList(list, lines) {
    list.replaceChildren(...lines.map((line) => {
      const item = document.createElement("li");
      item.textContent = line;
      return item;
    }));
  }

  // -- ticket --------------------------------------------------------------------------------------------
  function showTicket(ticket) {
    const changed = !state.ticket || state.ticket.id !== ticket.id;
    state.ticket = ticket;
    $("ticket-id").textContent = "#" + ticket.id;
    $("ticket-status").textContent = ticket.status;
    $("ticket-notes").textContent = ticket.notes;
    $("ticket-escalation").textContent = ticket.escalation_reason;
    $("ticket-escalation-line").hidden = !ticket.escalation_reason;
    if (ticket.disposition) $("disposition").value = ticket.disposition;
    if (changed) suggest();
  }

  function requireTicket() {
    if (!state.ticket) throw new Error(T.no_call);
    return state.ticket.id;
  }

  function ticketAction(path, body) {
    return run(async () => {
      const id = requireTicket();
      showTicket(await api("POST", "/tickets/" + id + path, body));
      say(T.saved, false);
      worklist();
    });
  }

  function worklist() {
    return run(async () => {
      const data = await api("GET", "/tickets?status=new,open,escalated&per_page=20");
      const list = $("worklist");
      if (!data.items.length) return fillList(list, [T.no_results]);
      list.replaceChildren(...data.items.map((ticket) => {
        const item = document.createElement("li");
        const open = document.createElement("button");
        open.type = "button";
        open.className = "secondary";
        open.textContent = T.open_ticket;
        open.setAttribute("aria-label", T.open_ticket + " #" + ticket.id);
        open.addEventListener("click", () => showTicket(ticket));
        const label = document.createElement("span");
        label.textContent = " #" + ticket.id + " " + ticket.status + " — " + ticket.subject + " ";
        item.append(label, open);
        return item;
      }));
    });
  }

  // -- knowledge base ------------------------------------------------------------------------------------
  function snippetNodes(html) {
    // The API escapes the snippet and marks matches with <mark>; rebuild it from text nodes only.
    const decoder = document.createElement("textarea");
    return html.split(/(<\/?mark>)/).reduce((nodes, part) => {
      if (part === "<mark>") nodes.push(document.createElement("mark"));
      else if (part !== "</mark>") {
        decoder.innerHTML = part;
        const text = document.createTextNode(decoder.value);
        const last = nodes[nodes.length - 1];
        if (last && last.nodeName === "MARK" && !last.textContent) last.appendChild(text);
        else nodes.push(text);
      }
      return nodes;
    }, []);
  }

  function showHits(list, hits) {
    if (!hits.length) return fillList(list, [T.no_results]);
    list.replaceChildren(...hits.map((hit) => {
      const item = document.createElement("li");
      const title = document.createElement("strong");
      title.textContent = hit.title;
      const snippet = document.createElement("p");
      snippet.className = "snippet";
      snippet.append(...snippetNodes(hit.snippet_html));
      const meta = document.createElement("small");
      meta.textContent = hit.solve_count + " " + T.solved_count;
      const pick = document.createElement("button");
      pick.type = "button";
      pick.className = "secondary";
      pick.textContent = T.solved_it;
      pick.setAttribute("aria-pressed", String(state.articleId === hit.id));
      pick.addEventListener("click", () => {
        state.articleId = hit.id;
        document.querySelectorAll("[aria-pressed]").forEach((b) => b.setAttribute("aria-pressed", "false"));
        pick.setAttribute("aria-pressed", "true");
      });
      item.append(title, snippet, meta, pick);
      return item;
    }));
  }

  function search() {
    const query = $("kb-query").value.trim();
    if (!query) return;
    return run(async () => {
      const data = await api("GET", "/kb/search?q=" + encodeURIComponent(query));
      showHits($("kb-results"), data.items);
    });
  }

  function suggest() {
    if (!state.ticket) return;
    return run(async () => {
      const data = await api("GET", "/tickets/" + state.ticket.id + "/suggestions");
      showHits($("kb-suggestions"), data.items);
    });
  }

  // -- softphone -----------------------------------------------------------------------------------------
  async function softphone() {
    const box = $("softphone");
    if (box.dataset.kind !== "twilio") return;
    try {
      const data = await api("POST", "/operators/me/voice-token");
      if (!window.Twilio || !window.Twilio.Device) throw new Error("SDK");
      const device = new window.Twilio.Device(data.token, { closeProtection: true });
      device.on("registered", () => { box.textContent = T.softphone_ready; });
      device.on("error", () => { box.textContent = T.softphone_unavailable; });
      device.on("incoming", (call) => { state.incoming = call; $("accept").hidden = false; });
      await device.register();
    } catch (error) {
      box.textContent = T.softphone_unavailable;
    }
  }

  // -- wiring --------------------------------------------------------------------------------------------
  function on(id, event, handler) {
    $(id).addEventListener(event, (e) => { e.preventDefault(); handler(); });
  }

  on("go-available", "click", () => setState("available"));
  on("go-break", "click", () => setState("break"));
  on("go-offline", "click", () => setState("offline"));
  on("accept", "click", () => run(async () => {
    if (state.incoming) {
      state.incoming.accept();  // the Twilio channel reports the answer to the ACD itself
      state.incoming = null;
    } else {
      showState(await api("POST", "/operators/me/accept", { call_id: state.callId }));
    }
    $("note-text").focus();
  }));
  on("note-form", "submit", () => {
    const text = $("note-text").value.trim();
    if (!text) return;
    ticketAction("/notes", { text }).then(() => { $("note-text").value = ""; suggest(); });
  });
  on("disposition-form", "submit", () => ticketAction("/disposition", { code: $("disposition").value }));
  on("resolve", "click", () => ticketAction("/resolve", { article_id: state.articleId }));
  on("escalate-form", "submit", () => ticketAction("/escalate", { reason: $("escalation-reason").value }));
  on("send-back", "click", () => ticketAction("/send-back", { reason: $("escalation-reason").value }));
  on("refresh-worklist", "click", worklist);
  on("kb-form", "submit", search);
  on("finish-wrap-up", "click", () => run(async () => {
    const call = state.callId ? "?call_id=" + encodeURIComponent(state.callId) : "";
    showState(await api("POST", "/operators/me/wrap-up-done" + call));
  }));

  run(async () => showState(await api("GET", "/operators/me").then((me) => ({
    state: me.state, since: me.state_since, reason: me.state_reason, call: me.call_id,
  }))));
  listen();
  softphone();
  worklist();
})();
