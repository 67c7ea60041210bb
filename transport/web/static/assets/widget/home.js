// The home view and the FAQ answers (S3): the FAQs come first, an answer
// comes at once and creates no ticket; below them, starting a live chat —
// or, for a visitor who is not logged in, being told to log in (S1). While
// the team is away, its away message (office hours) says when it is back.

import { el, icon, linkify } from "./dom.js";

export class Home {
  // pick(id) asks for an FAQ's answer; start() starts a chat; resume()
  // opens the chat in progress.
  constructor({ pick, start, resume }) {
    this.pick = pick;
    this.start = start;
    this.resume = resume;
    this.greeting = el("h3", { class: "greeting" });
    this.away = el("p", { class: "away", hidden: true });
    this.chatCard = el("section", { class: "card chat-card", "aria-label": "Chat with us" });
    this.faqList = el("ul", { class: "faqs" });
    this.faqCard = el("section", { class: "card faq-card", "aria-labelledby": "parley-faq-title" },
      el("h4", { id: "parley-faq-title", class: "card-title" }, icon("book"), "Common questions"), this.faqList);
    this.node = el("div", { class: "view home" }, this.greeting, this.away, this.chatCard, this.faqCard);

    this.answerQuestion = el("h3", { class: "answer-question", tabindex: "-1" });
    this.answerText = el("div", { class: "answer-text" });
    this.answerChat = el("div", { class: "answer-chat" });
    this.answer = el("div", { class: "view answer", hidden: true },
      el("article", { class: "card" }, this.answerQuestion, this.answerText), this.answerChat);
    this.error = "";
  }

  // render shows what welcome says, and whether a chat is open.
  render(w, chat) {
    const name = w.visitor && w.visitor.logged_in && w.visitor.name ? String(w.visitor.name).split(/\s+/)[0] : "";
    this.greeting.textContent = name ? "Hi " + name + " 👋" : "Hi there 👋";
    const away = w.office && !w.office.open && w.office.message;
    this.away.textContent = away || "";
    this.away.hidden = !away;
    this.w = w;
    this.chat = chat;
    this.chatCard.replaceChildren(...this.chatActions("How can we help? Ask us anything."));
    this.answerChat.replaceChildren(...this.chatActions("Still need help?"));
    const faqs = Array.isArray(w.faqs) ? w.faqs : [];
    this.faqCard.hidden = faqs.length === 0;
    this.faqList.replaceChildren(...faqs.map((f) => {
      const b = el("button", { type: "button", class: "faq" }, el("span", {}, String(f.question || "")), icon("next"));
      b.addEventListener("click", () => this.pick(f.id));
      return el("li", {}, b);
    }));
  }

  chatActions(lead) {
    const w = this.w || {};
    const out = [el("p", { class: "lead" }, lead)];
    if (this.chat && this.chat.conversation && !this.chat.ended) {
      const b = el("button", { type: "button", class: "primary" }, icon("chat"), "Continue the conversation");
      b.addEventListener("click", () => this.resume());
      out.push(b);
    } else if (w.chat && w.chat.can_start) {
      const b = el("button", { type: "button", class: "primary start" }, icon("chat"), "Start a chat");
      b.addEventListener("click", () => {
        b.disabled = true;
        this.start();
      });
      out.push(b);
    } else if (w.chat && w.chat.reason === "login_required") {
      out.push(el("p", { class: "login" }, "Log in to your account to chat with our team."));
    } else {
      out.push(el("p", { class: "login" }, "Chat is not available right now."));
    }
    if (this.error) out.push(el("p", { class: "error", role: "alert" }, this.error));
    return out;
  }

  say(error) {
    this.error = error;
    if (this.w) this.render(this.w, this.chat);
  }

  // showAnswer fills the answer view.
  showAnswer(f) {
    this.answerQuestion.textContent = String(f.question || "");
    this.answerText.replaceChildren();
    for (const para of String(f.answer || "").split(/\n{2,}/)) {
      const p = el("p");
      linkify(p, para);
      this.answerText.append(p);
    }
  }
}
