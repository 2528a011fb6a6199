import assert from 'node:assert/strict';
import { LabelBudget, otherLabel } from './label-budget';

describe('LabelBudget', () => {
  it('names the first values up to its limit and folds the rest into other', () => {
    const budget = new LabelBudget(2);
    assert.equal(budget.labelOf('a'), 'a');
    assert.equal(budget.labelOf('b'), 'b');
    assert.equal(budget.labelOf('c'), otherLabel);
    assert.equal(budget.labelOf('a'), 'a', 'a value keeps its own series');
  });

  it('gives a released place to the next new value, never to one already folded', () => {
    const budget = new LabelBudget(1);
    assert.equal(budget.labelOf('a'), 'a');
    assert.equal(budget.labelOf('b'), otherLabel);
    assert.equal(budget.release('a'), true);
    assert.equal(budget.release('a'), false);
    assert.equal(budget.labelOf('c'), 'c');
  });

  it('frees the places of names no longer present', () => {
    const budget = new LabelBudget(2);
    budget.labelOf('a');
    budget.labelOf('b');
    budget.retainOnly(new Set(['b']));
    assert.equal(budget.labelOf('c'), 'c');
    assert.equal(budget.labelOf('b'), 'b');
    assert.equal(budget.labelOf('d'), otherLabel);
  });
});
