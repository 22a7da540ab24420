package org.align4j.reward;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelInfo;
import org.osgi.framework.Filter;

/** A service registry of plain objects: register and unregister reward models, count gets and ungets. */
final class FakeRegistry implements Candidate.Registry {
    private final List<Entry> entries = new CopyOnWriteArrayList<>();
    private final AtomicLong ids = new AtomicLong();

    final class Entry implements Candidate {
        final RewardModel model;
        final RewardModelInfo info;
        final int ranking;
        final AtomicInteger gets = new AtomicInteger();
        final AtomicInteger ungets = new AtomicInteger();

        Entry(RewardModel model, RewardModelInfo info, int ranking) {
            this.model = model;
            this.info = info;
            this.ranking = ranking;
        }

        @Override
        public RewardModelInfo info() {
            return info;
        }

        @Override
        public int ranking() {
            return ranking;
        }

        @Override
        public boolean matches(Filter filter) {
            Map<String, Object> p = new HashMap<>();
            p.put(RewardModel.NAME, info.name());
            p.put(RewardModel.VERSION, info.version());
            p.put(RewardModel.ASPECT, info.aspect());
            return filter.matches(p);
        }

        @Override
        public RewardModel get() {
            gets.incrementAndGet();
            return model;
        }

        @Override
        public void unget() {
            ungets.incrementAndGet();
        }
    }

    Entry register(String name, String version, String aspect, RewardModel model) {
        return register(name, version, aspect, 0, model);
    }

    Entry register(String name, String version, String aspect, int ranking, RewardModel model) {
        Entry e = new Entry(model, new RewardModelInfo(name, version, aspect, "org.test." + name,
                ids.incrementAndGet()), ranking);
        entries.add(e);
        return e;
    }

    void unregister(Entry e) {
        entries.remove(e);
    }

    @Override
    public List<Candidate> candidates() {
        return new ArrayList<>(entries);
    }
}
