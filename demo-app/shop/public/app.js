/* Nordic Goods storefront: cart, campaign picker, the Resurs checkout and "Pay". No inline code, CSP-friendly. */
(function () {
  'use strict';

  var CHECKOUT_PATH = '/checkout/session';
  var PAYMENT_PATH = '/checkout/payment';
  var LOCALE = 'sv_SE';
  var CUSTOMER_TYPE = 'NATURAL';

  /** The server's cart (GET /demo/cart): shown here, priced there. The browser never sends amounts. */
  var cart = { lines: [], total: 0 };

  /** Friendly text for every `code` the checkout endpoint can answer. */
  var MESSAGES = {
    invalid_request: 'Something went wrong with the checkout request. Please reload the page and try again.',
    method_not_allowed: 'Something went wrong with the checkout request. Please reload the page and try again.',
    payload_too_large: 'Something went wrong with the checkout request. Please reload the page and try again.',
    unsupported_media_type: 'Something went wrong with the checkout request. Please reload the page and try again.',
    campaign_not_allowed: "This campaign isn't available in our shop.",
    campaign_not_started: "This campaign hasn't started yet.",
    campaign_expired: 'This campaign has ended.',
    rate_limited: 'Too many checkout attempts. Please wait a moment and try again.',
    upstream_error: "We couldn't start the payment right now. Please try again, or contact us if it keeps happening.",
    upstream_unavailable: 'Payments are temporarily unavailable, please try again in a moment.',
    upstream_timeout: 'Payments are taking too long to respond. Please try again in a moment.',
    internal_error: 'Something went wrong on our side. Please try again in a moment.',
    payment_refused: "Resurs couldn't accept this payment method for your order. Please choose another way to pay.",
    payment_in_progress: 'You have already started paying for this order with another method. Choose that method to continue, or decline it at Resurs first.',
    not_found: 'Something went wrong with the checkout request. Please reload the page and try again.',
  };
  var BAD_REDIRECT_MESSAGE = "We couldn't send you on to Resurs. Please try again in a moment.";
  var NETWORK_MESSAGE = "We couldn't reach the shop. Check your connection and try again.";
  var SCRIPT_MESSAGE = 'The payment form could not be loaded. Please try again in a moment.';
  var FALLBACK_MESSAGE = 'Something went wrong. Please try again in a moment.';

  var byId = function (id) { return document.getElementById(id); };
  var money = new Intl.NumberFormat('sv-SE', { style: 'currency', currency: 'SEK', maximumFractionDigits: 0 });
  var clock = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });
  var scripts = new Map(); // embed.src -> Promise<void>, so each script is added once
  var expiryTimer = 0;
  var attempt = 0;
  var paymentsEnabled = false;
  var chosenMethodId = null;

  function cartTotal() {
    return cart.total;
  }

  function renderCart() {
    var body = byId('cart-items');
    while (body.firstChild) body.removeChild(body.firstChild);
    cart.lines.forEach(function (line) {
      var row = document.createElement('tr');
      [line.description, String(line.quantity), money.format(line.totalAmountIncludingVat)].forEach(function (text, i) {
        var cell = document.createElement('td');
        cell.textContent = text;
        if (i > 0) cell.className = 'num';
        row.appendChild(cell);
      });
      body.appendChild(row);
    });
    byId('cart-total').textContent = money.format(cartTotal());
    byId('pay').textContent = 'Pay ' + money.format(cartTotal());
  }

  /** Loads the server's cart (which also gives this browser its cart cookie). */
  function loadCart() {
    return fetch('/demo/cart', { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok) throw new Error('cart ' + response.status);
        return response.json();
      })
      .then(function (body) {
        if (!body || !Array.isArray(body.lines) || typeof body.total !== 'number') throw new Error('cart shape');
        cart = body;
        renderCart();
        byId('cart').setAttribute('data-state', 'ready');
      })
      .catch(function () {
        byId('cart').setAttribute('data-state', 'error');
        showMessage('Your cart could not be loaded. Please reload the page.', null);
        byId('message').setAttribute('data-code', 'cart_failed');
      });
  }

  function showUpstream() {
    var line = byId('upstream');
    fetch('/demo/config', { headers: { Accept: 'application/json' } })
      .then(function (response) { return response.json(); })
      .then(function (config) {
        line.textContent = 'Payments via ' + (config.standIn ? 'the local Resurs stand-in' : 'Resurs') + ' at ';
        var code = document.createElement('code');
        code.id = 'upstream-base-url';
        code.textContent = config.baseUrl;
        line.appendChild(code);
        line.setAttribute('data-state', 'ready');
        paymentsEnabled = config.payments === true;
        byId('pay-area').hidden = !paymentsEnabled;
      })
      .catch(function () {
        line.textContent = 'Could not read the shop configuration.';
        line.setAttribute('data-state', 'error');
      });
  }

  function showMessage(text, requestId, kind) {
    var box = byId('message');
    byId('message-text').textContent = text;
    var reference = byId('message-reference');
    reference.textContent = requestId ? 'Reference: ' + requestId : '';
    reference.hidden = !requestId;
    box.setAttribute('data-kind', kind || 'error');
    box.hidden = false;
  }

  function clearMessage() {
    byId('message').hidden = true;
    byId('message').removeAttribute('data-code');
  }

  function resetCheckout() {
    window.clearInterval(expiryTimer);
    byId('checkout').hidden = true;
    byId('chosen-method').hidden = true;
    chosenMethodId = null;
    byId('pay').disabled = true;
    byId('pay-hint').textContent = 'Pick a payment method to continue.';
    var container = byId('payment-methods');
    while (container.firstChild) container.removeChild(container.firstChild);
    container.removeAttribute('data-state');
    byId('checkout').removeAttribute('data-session-id');
  }

  /** Adds `<script src>` once per src; resolves when it has run. */
  function loadScript(src) {
    if (scripts.has(src)) return scripts.get(src);
    var promise = new Promise(function (resolve, reject) {
      var script = document.createElement('script');
      script.src = src;
      script.async = true;
      script.addEventListener('load', function () { resolve(); });
      script.addEventListener('error', function () {
        scripts.delete(src);
        script.remove();
        reject(new Error('script failed to load'));
      });
      document.head.appendChild(script);
    });
    scripts.set(src, promise);
    return promise;
  }

  function minutesLeft(expiresAt) {
    return Math.round((expiresAt.getTime() - Date.now()) / 60000);
  }

  function showExpiry(expiresAtIso) {
    var expiresAt = new Date(expiresAtIso);
    var line = byId('session-expiry');
    function update() {
      while (line.firstChild) line.removeChild(line.firstChild);
      var left = minutesLeft(expiresAt);
      if (expiresAt.getTime() <= Date.now()) {
        line.textContent = 'This payment session has expired. Press “Go to checkout” to start a new one.';
        line.setAttribute('data-expired', 'true');
        window.clearInterval(expiryTimer);
        return;
      }
      var time = document.createElement('time');
      time.dateTime = expiresAtIso;
      time.textContent = clock.format(expiresAt);
      line.appendChild(document.createTextNode('Complete your payment by '));
      line.appendChild(time);
      line.appendChild(document.createTextNode(left < 1 ? ' (less than a minute left)' : ' (about ' + left + (left === 1 ? ' minute' : ' minutes') + ' left)'));
      line.removeAttribute('data-expired');
    }
    window.clearInterval(expiryTimer);
    update();
    expiryTimer = window.setInterval(update, 30000);
  }

  function problemMessage(response, body) {
    var code = body && typeof body.code === 'string' ? body.code : '';
    var text = MESSAGES[code] || FALLBACK_MESSAGE;
    var retryAfter = Number(response.headers.get('Retry-After'));
    if ((code === 'rate_limited' || code === 'upstream_unavailable') && retryAfter > 0 && retryAfter < 600) {
      text += ' (You can retry in about ' + Math.ceil(retryAfter) + (retryAfter > 1 ? ' seconds.)' : ' second.)');
    }
    return { code: code || 'unknown', text: text, requestId: (body && body.requestId) || response.headers.get('X-Request-Id') };
  }

  function createSession(campaign) {
    return fetch(CHECKOUT_PATH, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, application/problem+json' },
      body: JSON.stringify(campaign ? { campaign: campaign } : {}),
      credentials: 'same-origin',
    }).then(
      function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          if (response.status === 201 && body && body.id && body.embed && body.embed.src) return { session: body };
          return { problem: problemMessage(response, body) };
        });
      },
      function () { return { problem: { code: 'network_error', text: NETWORK_MESSAGE, requestId: null } }; },
    );
  }

  function checkout(event) {
    event.preventDefault();
    var campaign = byId('campaign').value;
    var button = byId('go-to-checkout');
    var thisAttempt = ++attempt;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    document.body.setAttribute('data-checkout', 'loading');
    clearMessage();
    resetCheckout();

    createSession(campaign)
      .then(function (result) {
        if (thisAttempt !== attempt) return undefined;
        if (result.problem) {
          showMessage(result.problem.text, result.problem.requestId);
          byId('message').setAttribute('data-code', result.problem.code);
          document.body.setAttribute('data-checkout', 'error');
          return undefined;
        }
        var session = result.session;
        return loadScript(session.embed.src)
          .then(function () {
            if (!window.ResursPaymentElements || typeof window.ResursPaymentElements.mount !== 'function') {
              throw new Error('payment elements missing');
            }
            byId('checkout').hidden = false;
            byId('checkout').setAttribute('data-session-id', session.id);
            showExpiry(session.expiresAt);
            return window.ResursPaymentElements.mount(byId('payment-methods'), {
              sessionId: session.id,
              amount: cartTotal(),
              locale: LOCALE,
              customerType: CUSTOMER_TYPE,
            });
          })
          .then(
            function () { document.body.setAttribute('data-checkout', 'ready'); },
            function () {
              if (thisAttempt !== attempt) return;
              showMessage(SCRIPT_MESSAGE, null);
              byId('message').setAttribute('data-code', 'payment_elements_failed');
              document.body.setAttribute('data-checkout', 'error');
            },
          );
      })
      .finally(function () {
        if (thisAttempt !== attempt) return;
        button.disabled = false;
        button.removeAttribute('aria-busy');
      });
  }

  function describeChoice(event) {
    var detail = event.detail || {};
    var chosen = byId('chosen-method');
    var label = byId('payment-methods').querySelector('[data-group-id="' + CSS.escape(String(detail.id)) + '"] [data-role="title"]');
    chosen.textContent = 'Selected: ' + (label ? label.textContent : String(detail.type));
    chosen.hidden = false;
    // The method the shopper picked: the first of its group's `methodIds`.
    chosenMethodId = Array.isArray(detail.methodIds) && typeof detail.methodIds[0] === 'string' ? detail.methodIds[0] : null;
    byId('pay').disabled = chosenMethodId === null;
    byId('pay-hint').textContent = chosenMethodId ? 'You will approve the payment on Resurs’ page.' : 'Pick a payment method to continue.';
  }

  /** Resurs' page, as the router passed it on: only an absolute http(s) URL is followed. */
  function followable(url) {
    try {
      var parsed = new URL(url);
      return parsed.protocol === 'https:' || parsed.protocol === 'http:';
    } catch (e) {
      return false;
    }
  }

  function payFailed(problem) {
    showMessage(problem.text, problem.requestId);
    byId('message').setAttribute('data-code', problem.code);
    document.body.setAttribute('data-checkout', 'ready');
    var button = byId('pay');
    button.disabled = chosenMethodId === null;
    button.removeAttribute('aria-busy');
  }

  /** "Pay": POST the picked method; the server builds the order from its cart. Then off to Resurs. */
  function pay() {
    if (!chosenMethodId) return;
    var button = byId('pay');
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    document.body.setAttribute('data-checkout', 'paying');
    clearMessage();
    fetch(PAYMENT_PATH, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, application/problem+json' },
      body: JSON.stringify({ paymentMethodId: chosenMethodId }),
      credentials: 'same-origin',
    }).then(
      function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          if (response.status !== 201 || !body || typeof body.paymentId !== 'string') return payFailed(problemMessage(response, body));
          document.body.setAttribute('data-checkout', 'redirecting');
          if (typeof body.redirectUrl === 'string') {
            if (!followable(body.redirectUrl)) return payFailed({ code: 'bad_redirect', text: BAD_REDIRECT_MESSAGE, requestId: response.headers.get('X-Request-Id') });
            window.location.assign(body.redirectUrl);
          } else {
            // Nothing to do at Resurs (e.g. already decided): show this order's state.
            window.location.assign('/order/latest');
          }
          return undefined;
        });
      },
      function () { payFailed({ code: 'network_error', text: NETWORK_MESSAGE, requestId: null }); },
    );
  }

  function onCampaignChange() {
    if (!byId('checkout').hidden || !byId('message').hidden) {
      resetCheckout();
      showMessage('Campaign changed. Press “Go to checkout” to see your payment options.', null, 'info');
      byId('message').setAttribute('data-code', 'campaign_changed');
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    showUpstream();
    byId('checkout-form').addEventListener('submit', checkout);
    byId('campaign').addEventListener('change', onCampaignChange);
    byId('payment-methods').addEventListener('resurs-payment-method-change', describeChoice);
    byId('pay').addEventListener('click', pay);
    loadCart().then(function () { document.body.setAttribute('data-checkout', 'idle'); });
  });

  // Back from Resurs' page through the back/forward cache: let the shopper press "Pay" again.
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted || document.body.getAttribute('data-checkout') !== 'redirecting') return;
    document.body.setAttribute('data-checkout', 'ready');
    byId('pay').disabled = chosenMethodId === null;
    byId('pay').removeAttribute('aria-busy');
  });
})();
