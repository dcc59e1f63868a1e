// 证照联办工作台: a little progressive enhancement over server-rendered pages. Every action also works
// as a plain form post; this file adds live refresh (polling), ticking waiting times and form niceties.
(() => {
  "use strict";
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const QUEUE_EVERY = 3000;
  const THREAD_EVERY = 2500;
  const BADGE_EVERY = 10000;

  async function poll(url, accept) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: accept } });
    // Signed out (expired, or deactivated by an admin): show the login page instead of stale data.
    if (response.status === 401 || response.redirected) {
      window.location.reload();
      return null;
    }
    return response.ok ? response : null;
  }

  function every(ms, fn) {
    let busy = false;
    const run = async () => {
      if (busy || document.hidden) return;
      busy = true;
      try { await fn(); } catch (error) { /* network hiccup: try again next round */ } finally { busy = false; }
    };
    setInterval(run, ms);
    return run;
  }

  // --- waiting times ------------------------------------------------------------------------------------
  function duration(seconds) {
    const total = Math.max(0, Math.floor(seconds));
    if (total < 60) return `${total} 秒`;
    const minutes = Math.floor(total / 60);
    if (minutes < 60) return `${minutes} 分钟`;
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return `${hours} 小时 ${minutes % 60} 分`;
    return `${Math.floor(hours / 24)} 天 ${hours % 24} 小时`;
  }
  function tick() {
    for (const el of $$("[data-since]")) {
      const since = Date.parse(el.dataset.since);
      const until = el.dataset.until ? Date.parse(el.dataset.until) : Date.now();
      if (!Number.isNaN(since)) el.textContent = duration((until - since) / 1000);
    }
  }
  setInterval(tick, 1000);

  // --- forms ------------------------------------------------------------------------------------------------
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    // One click, one decision: no double submissions while the page reloads.
    for (const button of $$("button[type=submit]", form)) button.disabled = true;
  });

  for (const button of $$("[data-insert]")) {
    button.addEventListener("click", () => {
      const target = $(button.dataset.insert);
      if (!target) return;
      target.value = target.value.trim() ? `${target.value.trim()}\n\n${button.dataset.text}` : button.dataset.text;
      target.focus();
    });
  }

  const reply = $("#reply");
  if (reply) {
    reply.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && reply.value.trim()) {
        event.preventDefault();
        reply.form.requestSubmit();
      }
    });
  }

  for (const select of $$("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }

  // Show only the fields that belong to the chosen decision / role.
  function toggle(attribute, value, scope) {
    for (const el of $$(`[${attribute}]`, scope)) {
      const shown = el.getAttribute(attribute) === value;
      el.hidden = !shown;
      for (const input of $$("input, select, textarea", el)) input.disabled = !shown;
    }
  }
  const decision = $(".decision-form");
  if (decision) {
    const update = () => {
      const chosen = $("input[name=decision]:checked", decision);
      toggle("data-for-decision", chosen ? chosen.value : "", decision);
      const date = $("input[name=inspection_date]", decision);
      if (date) date.required = !date.disabled;
      const reason = $("textarea[name=reason]", decision);
      if (reason) reason.required = !!chosen && chosen.value === "reject";
    };
    decision.addEventListener("change", update);
    update();
    for (const row of $$(".problem-row", decision)) {
      const box = $("input[type=checkbox]", row);
      const text = $("input[type=text]", row);
      text.addEventListener("input", () => { if (text.value.trim()) box.checked = true; });
    }
  }
  const role = $("[data-role-select]");
  if (role) {
    const update = () => toggle("data-for-role", role.value, role.form);
    role.addEventListener("change", update);
    update();
  }

  // --- live queue -----------------------------------------------------------------------------------------
  const badge = $("[data-waiting-badge]");
  const showWaiting = (count) => {
    if (!badge) return;
    badge.textContent = String(count);
    badge.hidden = !count;
  };
  const rows = $("[data-queue-rows]");
  if (rows) {
    every(QUEUE_EVERY, async () => {
      const response = await poll(rows.dataset.queueRows, "text/html");
      if (!response) return;
      rows.innerHTML = await response.text(); // rendered and escaped by the server, same origin
      if ("countsWaiting" in rows.dataset) showWaiting($$("tr.row-waiting", rows).length);
      tick();
    });
  }

  const badgeUrl = document.body.dataset.badgePoll;
  if (badge && badgeUrl) {
    const refresh = every(BADGE_EVERY, async () => {
      const response = await poll(badgeUrl, "application/json");
      if (!response) return;
      showWaiting((await response.json()).waiting);
    });
    refresh();
  }

  // --- one conversation -------------------------------------------------------------------------------------
  const thread = $("#thread[data-poll]");
  if (thread) {
    const lastId = () => Math.max(0, ...$$("li[data-id]", thread).map((li) => Number(li.dataset.id)));
    const scrollDown = () => { thread.scrollTop = thread.scrollHeight; };
    const append = (message) => {
      const empty = $(".empty", thread);
      if (empty) empty.remove();
      const item = document.createElement("li");
      item.className = `msg ${message.sender === "staff" ? "staff" : "applicant"} fresh`;
      item.dataset.id = String(message.id);
      const bubble = document.createElement("div");
      bubble.className = "bubble";
      bubble.textContent = message.text;
      const meta = document.createElement("div");
      meta.className = "meta";
      const at = new Date(message.created_at);
      const time = `${String(at.getHours()).padStart(2, "0")}:${String(at.getMinutes()).padStart(2, "0")}`;
      meta.textContent = `${message.staff_name || "申请人"} · ${time}`;
      item.append(bubble, meta);
      thread.append(item);
    };
    scrollDown();
    every(THREAD_EVERY, async () => {
      const response = await poll(thread.dataset.poll, "application/json");
      if (!response) return;
      const data = await response.json();
      const known = lastId();
      const fresh = data.messages.filter((m) => m.id > known);
      fresh.forEach(append);
      if (fresh.length) scrollDown();
      if (data.status !== thread.dataset.status) {
        const notice = $("#status-changed");
        const typing = reply && reply.value.trim();
        if (!typing) {
          window.location.reload();
        } else if (notice) {
          notice.textContent = `会话状态已变为“${data.status_label}”${data.claimed_by_name ? `（${data.claimed_by_name}）` : ""}，请刷新页面。`;
          notice.hidden = false;
        }
      }
    });
  }

  tick();
})();
