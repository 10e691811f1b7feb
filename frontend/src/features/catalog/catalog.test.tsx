import { screen, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { aProductSummary } from '@/testing/fixtures';
import { renderApp } from '@/testing/render';
import { server } from '@/testing/server';

describe('home', () => {
  it('shows personal picks and trending, each image sized before it loads', async () => {
    server.use(
      http.get('*/api/recommendations/for-you', () => HttpResponse.json({ kind: 'for_you', items: [aProductSummary({ id: 5, title: 'Navy coat' })] })),
      http.get('*/api/recommendations/trending', () => HttpResponse.json({ kind: 'trending', items: [aProductSummary(), aProductSummary({ id: 2, title: 'Flannel shirt' })] })),
    );
    renderApp('/');
    const picks = await screen.findByRole('list', { name: 'You might like' });
    expect(within(picks).getByText('Navy coat')).toBeInTheDocument();
    const trending = await screen.findByRole('list', { name: 'Trending now' });
    const images = within(trending).getAllByRole('img');
    expect(images).toHaveLength(2);
    for (const image of images) {
      expect(image).toHaveAttribute('width', '600');
      expect(image).toHaveAttribute('height', '750');
    }
  });

  it('hides “for you” when it is only the trending fallback', async () => {
    server.use(
      http.get('*/api/recommendations/for-you', () => HttpResponse.json({ kind: 'for_you', fallback: 'trending', items: [aProductSummary()] })),
      http.get('*/api/recommendations/trending', () => HttpResponse.json({ kind: 'trending', items: [aProductSummary()] })),
    );
    renderApp('/');
    expect(await screen.findByRole('list', { name: 'Trending now' })).toBeInTheDocument();
    expect(screen.queryByRole('list', { name: 'You might like' })).not.toBeInTheDocument();
  });
});
