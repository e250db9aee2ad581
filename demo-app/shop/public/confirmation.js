/* Nordic Goods order confirmation: polls the shop for the order's state. No inline code, CSP-friendly. */
(function () {
  'use strict';

  var POLL_MS = 500;
  /** About two minutes of polling, then the page asks the shopper to come back later. */
  var MAX_POLLS = 240;

  var TEXT = {
    waiting: {
      status: 'Waiting for Resurs\' confirmation\u2026',
      detail: 'Resurs tells the shop directly once your payment is authorized. This page updates by itself.',
    },
    frozen: {
      status: 'Resurs is reviewing your payment',
      detail: 'Resurs holds the payment for a manual check. This page updates by itself once they have decided.',
    },
    paid: {
      status: 'Paid',
      detail: 'Thank you! Resurs has authorized your payment, and your order is on its way.',
    },
    declined: {
      status: 'Payment declined',
      detail: 'Resurs did not approve the payment, and nothing was charged. You can try again, with the same or another way to pay.',
    },
    unknown: {
      status: 'We couldn\u2019t find this order',
      detail: 'This order is not known in this browser. Go back to the shop to start a new checkout.',
    },
  };
  var SLOW_DETAIL = 'This is taking longer than usual. Reload this page in a little while to see whether Resurs has confirmed your payment.';

  var byId = function (id) { return document.getElementById(id); };

  function show(state, detail) {
    var text = TEXT[state] || TEXT.unknown;
    var status = byId('order-status');
    status.textContent = text.status;
    status.setAttribute('data-state', state);
    byId('order-detail').textContent = detail || text.detail;
    byId('try-again').hidden = state !== 'declined';
    document.body.setAttribute('data-order', state);
  }

  function poll(ref, count) {
    fetch('/demo/orders/' + encodeURIComponent(ref), { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) {
        if (response.status === 404) return { state: 'unknown' };
        if (!response.ok) return null;
        return response.json().catch(function () { return null; });
      }, function () { return null; })
      .then(function (body) {
        var state = body && typeof body.state === 'string' && TEXT[body.state] ? body.state : null;
        if (state === 'paid' || state === 'declined' || state === 'unknown') return show(state);
        if (state) show(state);
        if (count + 1 >= MAX_POLLS) return show(state || 'waiting', SLOW_DETAIL);
        window.setTimeout(function () { poll(ref, count + 1); }, POLL_MS);
        return undefined;
      });
  }

  document.addEventListener('DOMContentLoaded', function () {
    // The reference only picks which order to ask about; the shop answers from its own records.
    var ref = new URLSearchParams(window.location.search).get('ref');
    if (!ref) return show('unknown');
    byId('order-reference').textContent = ref;
    byId('order-reference-line').hidden = false;
    show('waiting');
    poll(ref, 0);
  });
})();
