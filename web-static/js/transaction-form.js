// The test-transaction form: POSTs one transaction and shows the server's answer, with each
// validation problem (400 details) next to its field and the API key field revealed on 401.

import { postTransaction } from "./server-api.js";

const fields = ["investorId", "syndicateId", "amount", "apiKey"];

export class TransactionForm {
  constructor({ form, result, apiKeyField, onAccepted }) {
    this.form = form;
    this.result = result;
    this.apiKeyField = apiKeyField;
    this.onAccepted = onAccepted;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  async submit() {
    const data = new FormData(this.form);
    const transaction = {
      investorId: String(data.get("investorId") || "").trim(),
      syndicateId: String(data.get("syndicateId") || "").trim(),
      amount: String(data.get("amount") || "").trim(),
    };
    this.clearErrors();
    this.setResult("Sending…", "pending");
    const { status, body } = await postTransaction(transaction, String(data.get("apiKey") || ""));
    if (status === 201) {
      this.setResult(`Accepted as seq ${body?.firstSeq ?? "?"}.`, "ok");
      this.onAccepted(transaction);
      return;
    }
    const error = body?.error;
    if (status === 401) {
      this.apiKeyField.hidden = false;
      this.showFieldError("apiKey", error?.message || "This server requires an API key.");
    }
    for (const detail of error?.details || []) this.showFieldError(detail.field, detail.reason);
    const message = status === 0 ? "The server could not be reached." : error?.message || `The server answered ${status}.`;
    this.setResult(message, "error");
    const firstInvalid = this.form.querySelector("[aria-invalid='true']");
    if (firstInvalid) firstInvalid.focus();
  }

  showFieldError(field, reason) {
    const name = fields.includes(field) ? field : null;
    if (!name) return;
    const input = this.form.elements.namedItem(name);
    const slot = document.getElementById(`error-${name}`);
    if (!input || !slot) return;
    input.setAttribute("aria-invalid", "true");
    slot.textContent = slot.textContent ? `${slot.textContent}; ${reason}` : reason;
  }

  clearErrors() {
    for (const name of fields) {
      const input = this.form.elements.namedItem(name);
      if (input) input.removeAttribute("aria-invalid");
      const slot = document.getElementById(`error-${name}`);
      if (slot) slot.textContent = "";
    }
  }

  setResult(text, kind) {
    this.result.textContent = text;
    this.result.dataset.kind = kind;
  }
}
