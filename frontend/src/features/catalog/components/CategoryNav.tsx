import { Link } from 'react-router-dom';

import { useCategories } from '../api/categories';

/** Top-level categories with products in them. */
export function CategoryNav() {
  const query = useCategories();
  if (!query.isSuccess) return null;
  const top = query.data.items.filter((category) => category.parent === null && category.products > 0);
  if (top.length === 0) return null;
  return (
    <nav aria-label="Categories" className="overflow-x-auto">
      <ul className="flex gap-4 whitespace-nowrap text-sm">
        {top.map((category) => (
          <li key={category.slug}>
            <Link to={`/c/${category.slug}`} className="inline-block py-2 hover:underline">
              {category.name}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function CategoryTitle({ slug }: { slug: string }) {
  const query = useCategories();
  const name = query.data?.items.find((category) => category.slug === slug)?.name;
  return <>{name ?? slug}</>;
}
