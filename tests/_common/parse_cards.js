// Parse Adaptive Cards with the official renderer library (npm adaptivecards@3.0.6) and report what it
// finds, for tests/_common/card_validation.py.
//
// Why: the JSON schema cannot see duplicate ids, required inputs without a label or error message, or
// features newer than the card version; the parser can. One node process handles every card of a
// validate_cards() call, because starting node per card would make the card tests slow.
//
// stdin: a JSON array of cards. stdout: a JSON array, one {"events": [...]} per card, where each event
// is {"phase", "event", "message", "sourceType", "sourceId"}; "phase" is Parse or Validation.
// require("adaptivecards") fails on Node 20 (its package entry point), so the bundled build is loaded.
"use strict";
const path = require("path");
const fs = require("fs");

const AC = require(path.join(__dirname, "..", "..", "node_modules", "adaptivecards", "dist", "adaptivecards.min.js"));

function describe(event) {
  const source = event.source || {};
  return {
    phase: AC.ValidationPhase[event.phase],
    event: AC.ValidationEvent[event.event],
    message: event.message,
    sourceType: typeof source.getJsonTypeName === "function" ? source.getJsonTypeName() : source.type || null,
    sourceId: source.id || null,
  };
}

function check(json) {
  const events = [];
  try {
    const card = new AC.AdaptiveCard();
    const context = new AC.SerializationContext(AC.Versions.v1_5);
    card.parse(json, context);
    for (let i = 0; i < context.eventCount; i++) {
      events.push(describe(context.getEventAt(i)));
    }
    for (const event of card.validateProperties().validationEvents) {
      events.push(describe(event));
    }
  } catch (error) {
    events.push({ phase: "Parse", event: "Exception", message: String(error), sourceType: null, sourceId: null });
  }
  return { events };
}

const cards = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cards.map(check)));
